"""The examples in the docstrings of the graph modules run as written."""

import doctest

import pytest

from numkeras.layers import node
from numkeras.models import cloning, compile_utils, functional, graph_config


@pytest.mark.parametrize("module", [node, functional, cloning, compile_utils, graph_config])
def test_docstring_examples(module):
    assert doctest.testmod(module).failed == 0


def test_clone_model_copies_sequential_and_functional_architectures():
    import numpy as np

    import numkeras as keras

    seq = keras.Sequential([keras.Input((4,), name="features"), keras.layers.Dense(3, name="d")])
    twin = keras.models.clone_model(seq)
    assert [layer.name for layer in twin.layers] == ["d"]
    assert twin.layers[0] is not seq.layers[0] and twin.input_shape == (None, 4)

    left, right = keras.Input((2,), name="l"), keras.Input((2,), name="r")
    shared = keras.layers.Dense(2, name="shared")
    model = keras.Model([left, right], keras.layers.Add(name="sum")([shared(left), shared(right)]))
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    x = [np.ones((3, 2), np.float32), np.zeros((3, 2), np.float32)]
    np.testing.assert_array_equal(copy.predict(x, verbose=0), model.predict(x, verbose=0))
    assert len(copy.get_layer("shared")._inbound_nodes) == 2  # still one shared layer
    with pytest.raises(ValueError, match="subclassed"):
        keras.models.clone_model(keras.Model())
