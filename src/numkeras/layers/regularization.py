"""Regularization layers for images: SpatialDropout2D."""

from __future__ import annotations

from numkeras.layers.convolutional import ImageInputSpec, check_image_rank, normalize_data_format
from numkeras.layers.core import Dropout
from numkeras.layers.layer import dtype_name


class SpatialDropout2D(Dropout):
    """Dropout of whole feature maps: each (sample, channel) is kept or zeroed entirely.

    Neighbouring pixels of a feature map are strongly correlated, so dropping single pixels
    barely regularizes a convolutional network; dropping channels does. Kept channels are
    scaled by ``1 / (1 - rate)``; at inference the layer passes inputs through.

    Args:
        rate: fraction of channels to drop, in [0, 1).
        data_format: ``"channels_last"`` or None.
        seed: seed of this layer's own generator (default: from ``set_random_seed``).

    >>> import numpy as np
    >>> y = SpatialDropout2D(0.5, seed=0)(np.ones((2, 3, 3, 4)), training=True).data
    >>> whole_channels = (y.min(axis=(1, 2)) == y.max(axis=(1, 2))).all()
    >>> bool(((y == 0) | (y == 2)).all()), bool(whole_channels)
    (True, True)
    """

    def __init__(self, rate, data_format=None, seed=None, name=None, dtype=None, **kwargs):
        # The mask has shape (batch, 1, 1, channels): Dropout fills the None entries from
        # each input and broadcasts the 1s over height and width.
        super().__init__(rate, noise_shape=(None, 1, 1, None), seed=seed, name=name,
                         dtype=dtype, **kwargs)
        self.data_format = normalize_data_format(data_format, self.name)
        self.input_spec = ImageInputSpec(ndim=4)

    def build(self, input_shape):
        check_image_rank(self.name, input_shape)

    def get_config(self):
        # Keras 3 writes exactly these keys for spatial dropout (no `trainable`, a plain
        # dtype name).
        return {"rate": self.rate, "seed": self.seed, "name": self.name,
                "dtype": dtype_name(self.dtype), "data_format": self.data_format}
