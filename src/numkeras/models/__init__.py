"""Models: ``Sequential`` and the ``Model`` base class (subclassing API)."""

from numkeras.models.model import Model
from numkeras.models.sequential import Sequential

__all__ = ["Model", "Sequential"]
