"""``keras.backend``: the session and float settings classic course code calls.

>>> import numkeras as keras
>>> keras.backend.clear_session()
>>> keras.backend.floatx(), keras.backend.epsilon()
('float32', 1e-07)
"""

from numkeras.config import (  # noqa: F401 - re-exported
    epsilon, floatx, image_data_format, set_epsilon, set_floatx,
)
from numkeras.utils import clear_session  # noqa: F401 - re-exported

__all__ = ["clear_session", "epsilon", "floatx", "image_data_format", "random_normal",
           "random_uniform", "set_epsilon", "set_floatx"]


def random_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """tf.keras 2's ``keras.backend.random_normal`` (the tf.keras edition of the subclassing
    guide samples its VAE's latent vectors with it); Keras 3 spells it ``keras.random.normal``.

    >>> import numkeras as keras
    >>> keras.backend.random_normal(shape=(2, 3), seed=1).shape
    (2, 3)
    """
    from numkeras import random

    return random.normal(shape, mean=mean, stddev=stddev, dtype=dtype, seed=seed)


def random_uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """tf.keras 2's ``keras.backend.random_uniform``: ``keras.random.uniform``."""
    from numkeras import random

    return random.uniform(shape, minval=minval, maxval=maxval, dtype=dtype, seed=seed)
