"""Utilities: seeding, session reset, labels, progress bar (and plots, loaded on demand)."""

from numkeras.config import set_random_seed
from numkeras.utils import naming
from numkeras.utils.data import normalize, to_categorical
from numkeras.utils.progbar import Progbar


def clear_session() -> None:
    """Reset automatic names (``dense``, ``dense_1`` ...), as ``keras.backend.clear_session``."""
    naming.reset()


__all__ = ["Progbar", "clear_session", "normalize", "set_random_seed", "to_categorical"]
