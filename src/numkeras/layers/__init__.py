"""Layers: the building blocks of models (Keras names and arguments)."""

from numkeras.layers.layer import InputSpec, Layer
