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

__all__ = ["clear_session", "epsilon", "floatx", "image_data_format", "set_epsilon",
           "set_floatx"]
