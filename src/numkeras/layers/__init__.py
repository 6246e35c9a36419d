"""Layers: the building blocks of models, with Keras's names and arguments."""

from __future__ import annotations

import importlib

from numkeras.layers.activations import (
    ELU, Activation, LeakyReLU, Maxout, PReLU, ReLU, Softmax,
)
from numkeras.layers.convolutional import Conv1D, Conv2D, Conv2DTranspose
from numkeras.layers.convolutional import (
    DepthwiseConv1D, DepthwiseConv2D, SeparableConv1D, SeparableConv2D,
)
from numkeras.layers.core import Dense, Dropout, Flatten, Input, InputLayer, KerasTensor, Reshape
from numkeras.layers.embedding import Embedding
from numkeras.layers.lambda_layer import Identity, Lambda
from numkeras.layers.layer import InputSpec, Layer
from numkeras.layers.merging import (
    Add, Average, Concatenate, Dot, Maximum, Merge, Minimum, Multiply, Subtract, add, average,
    concatenate, dot, maximum, minimum, multiply, subtract,
)
from numkeras.layers.normalization import BatchNormalization, LayerNormalization
from numkeras.layers.normalization import GroupNormalization
from numkeras.layers.pooling import (
    AveragePooling1D, AveragePooling2D, GlobalAveragePooling1D, GlobalAveragePooling2D,
    GlobalMaxPooling1D, GlobalMaxPooling2D, MaxPooling1D, MaxPooling2D,
)
from numkeras.layers.preprocessing import (
    CenterCrop, Normalization, RandomBrightness, RandomContrast, RandomCrop, RandomFlip,
    RandomRotation, RandomTranslation, RandomZoom, Rescaling, Resizing,
)
from numkeras.layers.operation import operation_from_config
from numkeras.layers.regularization import SpatialDropout2D
from numkeras.layers.reshaping import (
    Cropping2D, Permute, RepeatVector, UpSampling2D, ZeroPadding2D,
)
from numkeras.utils.registry import lookup

_LAYER_CLASSES = {cls.__name__: cls for cls in (
    Activation, AveragePooling2D, BatchNormalization, Conv2D, Conv2DTranspose, Dense, Dropout,
    AveragePooling1D, Conv1D, ELU, Embedding, Flatten, GlobalAveragePooling1D,
    GlobalMaxPooling1D, LayerNormalization, MaxPooling1D,
    GlobalAveragePooling2D, GlobalMaxPooling2D, InputLayer, LeakyReLU, MaxPooling2D, Maxout,
    PReLU, ReLU, Reshape, Softmax, SpatialDropout2D, UpSampling2D, ZeroPadding2D,
    # merging, reshaping, Identity (Lambda stays out: its config is code, never loaded)
    Add, Average, Concatenate, Cropping2D, Dot, Identity, Maximum, Minimum, Multiply, Permute,
    RepeatVector, Subtract,
    # preprocessing
    CenterCrop, Normalization, RandomBrightness, RandomContrast, RandomCrop, RandomFlip,
    RandomRotation, RandomTranslation, RandomZoom, Rescaling, Resizing,
)}
# Keras's aliases for the same classes.
_LAYER_CLASSES.update({"Convolution2D": Conv2D, "Convolution2DTranspose": Conv2DTranspose,
                       "Convolution1D": Conv1D, "MaxPool2D": MaxPooling2D,
                       "AvgPool2D": AveragePooling2D, "GlobalAvgPool2D": GlobalAveragePooling2D,
                       "GlobalMaxPool2D": GlobalMaxPooling2D, "MaxPool1D": MaxPooling1D,
                       "AvgPool1D": AveragePooling1D, "GlobalAvgPool1D": GlobalAveragePooling1D,
                       "GlobalMaxPool1D": GlobalMaxPooling1D})
# depthwise/separable convolutions, GroupNormalization, attention (issue 13)
_LAYER_CLASSES.update({cls.__name__: cls for cls in (
    DepthwiseConv1D, DepthwiseConv2D, GroupNormalization, SeparableConv1D, SeparableConv2D)})
_LAYER_CLASSES.update({"SeparableConvolution1D": SeparableConv1D,
                       "SeparableConvolution2D": SeparableConv2D})
SeparableConvolution1D, SeparableConvolution2D = SeparableConv1D, SeparableConv2D
Convolution1D = Conv1D
MaxPool1D, AvgPool1D = MaxPooling1D, AveragePooling1D
GlobalAvgPool1D, GlobalMaxPool1D = GlobalAveragePooling1D, GlobalMaxPooling1D
Convolution2D, MaxPool2D, AvgPool2D = Conv2D, MaxPooling2D, AveragePooling2D
Convolution2DTranspose = Conv2DTranspose
GlobalAvgPool2D, GlobalMaxPool2D = GlobalAveragePooling2D, GlobalMaxPooling2D

# Layer families loaded on first use, so that the lecture's models do not import recurrent,
# text and attention code: module -> the class names it provides.
_LAZY_FAMILIES = {
    "numkeras.layers.recurrent": (
        "GRU", "LSTM", "RNN", "Bidirectional", "GRUCell", "LSTMCell", "Masking", "SimpleRNN",
        "SimpleRNNCell", "TimeDistributed"),
    "numkeras.layers.text": ("IntegerLookup", "StringLookup", "TextVectorization"),
    "numkeras.layers.attention": ("AdditiveAttention", "Attention", "MultiHeadAttention"),
}
_LAZY_NAMES = {name: module for module, names in _LAZY_FAMILIES.items() for name in names}


def __getattr__(name: str):
    module = _LAZY_NAMES.get(name)
    if module is None:
        raise AttributeError(f"module 'numkeras.layers' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def layer_classes() -> dict:
    """Every layer class by its Keras class name and aliases (the registry files are read
    against), loading the lazy families first.

    >>> "LSTM" in layer_classes() and "Lambda" not in layer_classes()
    True
    """
    if not _LAZY_NAMES.keys() <= _LAYER_CLASSES.keys():
        _LAYER_CLASSES.update({name: __getattr__(name) for name in _LAZY_NAMES})
    return _LAYER_CLASSES


def serialize(layer: Layer) -> dict:
    """Keras 3's dict form of a layer: module, class_name, config, build_config."""
    entry = {"module": getattr(layer, "keras_module", "keras.layers"),
             "class_name": type(layer).__name__,
             "config": layer.get_config(), "registered_name": None}
    if not isinstance(layer, InputLayer):
        build_config = layer.get_build_config()
        if build_config is not None:
            entry["build_config"] = build_config
    return entry


def deserialize(config: dict, custom_objects=None) -> Layer:
    """A layer from its dict form (Keras 2 or 3); classes come only from numkeras's own
    layers or ``custom_objects``."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"Cannot deserialize a layer from {config!r}: expected a dict with "
                         f"'class_name' and 'config'.")
    if str(config.get("module", "")).startswith("keras.src.ops."):  # keras.ops on symbols
        return operation_from_config(config)
    table = {**layer_classes(), **(custom_objects or {})}
    cls = lookup("layer", table, config["class_name"])
    layer = cls.from_config(dict(config.get("config") or {}))
    build_config = config.get("build_config")
    if build_config and build_config.get("input_shape") is not None:
        layer.build_from_shape(build_config["input_shape"])
    return layer


__all__ = [
    "Activation", "AvgPool2D", "AveragePooling2D", "BatchNormalization", "Conv1D", "Conv2D",
    "Conv2DTranspose", "Convolution1D", "Convolution2D",
    "Convolution2DTranspose", "Dense", "Dropout", "ELU",
    "Embedding", "Flatten", "GlobalAvgPool2D",
    "AvgPool1D", "AveragePooling1D", "GlobalAvgPool1D", "GlobalAveragePooling1D",
    "GlobalMaxPool1D", "GlobalMaxPooling1D", "LayerNormalization", "MaxPool1D", "MaxPooling1D",
    "GlobalAveragePooling2D", "GlobalMaxPool2D", "GlobalMaxPooling2D", "Input", "InputLayer",
    "InputSpec", "KerasTensor", "Layer", "LeakyReLU", "MaxPool2D", "MaxPooling2D", "Maxout",
    "PReLU", "ReLU", "Reshape", "Softmax", "SpatialDropout2D", "UpSampling2D", "ZeroPadding2D",
    "deserialize", "serialize",
    "Add", "Average", "Concatenate", "Cropping2D", "Dot", "Identity", "Lambda", "Maximum",
    "Merge", "Minimum", "Multiply", "Permute", "RepeatVector", "Subtract",
    "CenterCrop", "Normalization", "RandomBrightness", "RandomContrast", "RandomCrop",
    "RandomFlip", "RandomRotation", "RandomTranslation", "RandomZoom", "Rescaling", "Resizing",
    "add", "average", "concatenate", "dot", "maximum", "minimum", "multiply", "subtract",
    "AdditiveAttention", "Attention", "DepthwiseConv1D", "DepthwiseConv2D", "GroupNormalization",
    "MultiHeadAttention", "SeparableConv1D", "SeparableConv2D", "SeparableConvolution1D",
    "SeparableConvolution2D",
    "GRU", "LSTM", "RNN", "Bidirectional", "GRUCell", "LSTMCell", "SimpleRNN", "SimpleRNNCell",
    "TimeDistributed", "Masking",
    "IntegerLookup", "StringLookup", "TextVectorization",
]
