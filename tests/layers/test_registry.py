"""The layer registry: every exported layer deserializes, and only those do."""

import pytest

from numkeras import layers


def test_every_allowed_layer_is_exported():
    assert set(layers._LAYER_CLASSES) <= set(layers.__all__)


def test_serialize_round_trip_of_a_built_layer():
    dense = layers.Dense(3, activation="relu")
    dense.build_from_shape((None, 4))
    entry = layers.serialize(dense)
    assert entry["build_config"] == {"input_shape": [None, 4]}
    clone = layers.deserialize(entry)
    assert clone.built and clone.get_config() == dense.get_config()


def test_unknown_layer_class_is_refused():
    with pytest.raises(ValueError, match="Unknown layer 'Lambda'"):
        layers.deserialize({"class_name": "Lambda", "config": {}})
