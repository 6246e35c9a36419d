"""The errors of numkeras.saving: every problem with a file becomes one of these.

Both derive from ``ValueError`` (what Keras raises for bad files), so ``except ValueError`` keeps
working; catch :class:`SavingError` to handle exactly the problems of saved files.

>>> issubclass(UnsafeFileError, SavingError), issubclass(SavingError, ValueError)
(True, True)
"""

from __future__ import annotations


class SavingError(ValueError):
    """A file that cannot be saved or loaded: malformed, truncated, inconsistent with its
    config, or naming something numkeras does not have. The message names the file, the part of
    it (archive member, HDF5 dataset, config entry) and the problem, and says how to fix it."""


class UnsafeFileError(SavingError):
    """A file refused for safety: it asks for code to run (a ``Lambda`` layer, a Python
    lambda, a class from an unknown module or ``registered_name``), or its archive looks
    hostile (absolute or ``..`` member paths, members far larger than declared: zip bombs)."""


def where(filepath, part: str | None = None) -> str:
    """``'m.keras'`` or ``'m.keras', member 'config.json'`` for error messages."""
    text = f"'{filepath}'"
    return f"{text}, {part}" if part else text
