"""The working-memory budget (issue 15, item 2): a call whose largest buffer would exceed
``config.max_working_bytes()`` is split over its batch under inference, or refused with an
error that names the layer, the shapes and the fix."""

import numpy as np
import pytest

import numkeras as keras
from numkeras import config
from numkeras.backprop import memory, no_grad


@pytest.fixture
def budget():
    def set_budget(nbytes):
        config.set_max_working_bytes(nbytes)

    yield set_budget
    config.set_max_working_bytes(None)


def upsampling_cnn():
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((8, 8, 1)), keras.layers.UpSampling2D(16),
                             keras.layers.Conv2D(3, 3, activation="relu")])


def test_default_budget_is_half_the_physical_memory():
    assert config.max_working_bytes() is None
    assert 2**20 < memory.working_budget() < 2**50


def test_inference_splits_the_batch_and_gives_the_same_numbers(budget):
    model = upsampling_cnn()
    x = np.random.default_rng(0).random((6, 8, 8, 1), dtype=np.float32)
    whole = model.predict(x, verbose=0)
    per_image = 126 * 126 * (9 + 1) * 4  # im2col rows x (kernel + bias column) x float32
    budget(2 * per_image)  # two images per part: three parts
    np.testing.assert_array_equal(model.predict(x, verbose=0), whole)
    with no_grad():  # a direct call records a graph unless told not to
        np.testing.assert_array_equal(model(x).data, whole)


def test_training_over_budget_is_refused_with_the_layer_and_the_fix(budget):
    model = upsampling_cnn()
    model.compile("sgd", "mse")
    x, y = np.ones((4, 8, 8, 1), np.float32), np.zeros((4, 126, 126, 3), np.float32)
    budget(126 * 126 * 10 * 4 * 2)  # room for two images, not four
    with pytest.raises(MemoryError, match=r"Layer 'conv2d' \(Conv2D\): conv2d \(inputs "
                       r"\(4, 128, 128, 1\), kernel \(3, 3, 1, 3\).*smaller batch size"):
        model.fit(x, y, batch_size=4, verbose=0)
    model.fit(x, y, batch_size=2, verbose=0)  # within the budget


def test_one_sample_over_budget_is_refused_even_in_inference(budget):
    model = upsampling_cnn()
    budget(2**16)
    with pytest.raises(memory.WorkingMemoryError, match="per sample.*smaller inputs") as info:
        model.predict(np.ones((2, 8, 8, 1), np.float32), verbose=0)
    assert info.value.layer == "conv2d"


def test_budget_setting_is_validated():
    for bad in (0, -1, 1.5, True, "1G"):
        with pytest.raises(ValueError, match="set_max_working_bytes"):
            config.set_max_working_bytes(bad)
