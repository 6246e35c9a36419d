"""Models: ``Sequential``, functional models (``Model(inputs, outputs)``) and the ``Model``
base class (subclassing API)."""

from numkeras.models.cloning import clone_model
from numkeras.models.functional import Functional
from numkeras.models.model import Model
from numkeras.models.sequential import Sequential


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Load a model from a ``.keras`` archive (Keras 3 or numkeras) or a legacy ``.h5`` file.

    Safe on untrusted files: see :func:`numkeras.saving.load_model`.
    """
    from numkeras import saving  # imported on use: `import numkeras` stays light

    return saving.load_model(filepath, custom_objects=custom_objects, compile=compile,
                             safe_mode=safe_mode)


def model_from_json(json_string, custom_objects=None):
    """A new model from ``model.to_json()`` (numkeras, Keras 3 or tf.keras JSON)."""
    from numkeras import saving

    return saving.model_from_json(json_string, custom_objects=custom_objects)


__all__ = ["Functional", "Model", "Sequential", "clone_model", "load_model", "model_from_json"]
