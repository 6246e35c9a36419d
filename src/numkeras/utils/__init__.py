"""Utilities: seeding, session reset, labels, progress bar, gradient checks, and plots
(matplotlib is imported only when a plot is drawn)."""

import importlib

from numkeras.config import set_random_seed
from numkeras.utils import naming
from numkeras.utils.data import normalize, to_categorical

# Loaded on first use (images, plots, datasets, text), so that importing a model does not pay
# for them: module -> names.
_LAZY_MODULES = {
    "numkeras.utils.gradients": ("GradientCheck", "check_gradients"),
    "numkeras.utils.image_utils": ("array_to_img", "image_dataset_from_directory",
                                   "img_to_array", "load_img", "save_img"),
    "numkeras.utils.model_visualization": ("model_to_dot", "plot_model"),
    "numkeras.utils.plotting": ("plot_gradient_flow", "plot_history"),
    "numkeras.utils.progbar": ("Progbar",),
    "numkeras.utils.py_dataset": ("PyDataset", "Sequence", "pack_x_y_sample_weight",
                                  "unpack_x_y_sample_weight"),
    "numkeras.utils.sequence_utils": ("pad_sequences",),
}
_LAZY_NAMES = {name: module for module, names in _LAZY_MODULES.items() for name in names}


def __getattr__(name: str):
    module = _LAZY_NAMES.get(name)
    if module is None:
        raise AttributeError(f"module 'numkeras.utils' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def clear_session() -> None:
    """Reset automatic names (``dense``, ``dense_1`` ...), as ``keras.backend.clear_session``."""
    naming.reset()


__all__ = ["GradientCheck", "Progbar", "PyDataset", "Sequence", "pack_x_y_sample_weight",
           "unpack_x_y_sample_weight", "check_gradients", "clear_session", "normalize",
           "plot_gradient_flow", "plot_history", "set_random_seed", "to_categorical",
           "array_to_img", "image_dataset_from_directory", "img_to_array", "load_img",
           "save_img", "model_to_dot", "plot_model",
           "pad_sequences"]
