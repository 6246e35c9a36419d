"""Shared fixtures: every test starts from the same seed and fresh automatic names."""

import numpy as np
import pytest

from numkeras import config
from numkeras.utils import naming


@pytest.fixture(autouse=True)
def _seeded_and_fresh_names():
    config.set_random_seed(1234)
    naming.reset()
    yield


@pytest.fixture
def rng():
    return np.random.default_rng(0)
