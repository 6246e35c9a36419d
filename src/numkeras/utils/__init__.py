"""Utilities: seeding, session reset, labels, progress bar, gradient checks, and plots
(matplotlib is imported only when a plot is drawn)."""

from numkeras.config import set_random_seed
from numkeras.utils import naming
from numkeras.utils.data import normalize, to_categorical
from numkeras.utils.gradients import GradientCheck, check_gradients
from numkeras.utils.image_utils import (
    array_to_img, image_dataset_from_directory, img_to_array, load_img, save_img,
)
from numkeras.utils.model_visualization import model_to_dot, plot_model
from numkeras.utils.plotting import plot_gradient_flow, plot_history
from numkeras.utils.progbar import Progbar
from numkeras.utils.py_dataset import (
    PyDataset, Sequence, pack_x_y_sample_weight, unpack_x_y_sample_weight,
)
from numkeras.utils.sequence_utils import pad_sequences


def clear_session() -> None:
    """Reset automatic names (``dense``, ``dense_1`` ...), as ``keras.backend.clear_session``."""
    naming.reset()


__all__ = ["GradientCheck", "Progbar", "PyDataset", "Sequence", "pack_x_y_sample_weight",
           "unpack_x_y_sample_weight", "check_gradients", "clear_session", "normalize",
           "plot_gradient_flow", "plot_history", "set_random_seed", "to_categorical",
           "array_to_img", "image_dataset_from_directory", "img_to_array", "load_img",
           "save_img", "model_to_dot", "plot_model",
           "pad_sequences"]
