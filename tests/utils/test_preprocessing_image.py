"""keras.preprocessing.image: the image-file utilities under their older Keras 3 name."""

import numpy as np
import pytest

import numkeras as keras
import numkeras.compat.tf as tf


def test_preprocessing_image_is_the_utils_functions(tmp_path):
    pytest.importorskip("PIL")
    image = keras.preprocessing.image
    assert image.array_to_img is keras.utils.array_to_img
    assert tf.keras.preprocessing.image.save_img is keras.utils.save_img
    # The tf.keras training-loop guide saves a generated digit so: values in [0, 255].
    digit = np.linspace(0, 1, 28 * 28, dtype=np.float32).reshape(28, 28, 1)
    img = image.array_to_img(digit * 255.0, scale=False)
    img.save(str(tmp_path / "digit.png"))
    loaded = image.img_to_array(image.load_img(tmp_path / "digit.png", color_mode="grayscale"))
    np.testing.assert_allclose(loaded[..., 0], np.floor(digit[..., 0] * 255.0), atol=1)
