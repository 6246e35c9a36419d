"""numkeras: the Keras API on NumPy, with its own backpropagation.

>>> import numkeras as keras
>>> model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(2)])
>>> model.count_params()
10

Submodules load on first use, so ``import numkeras`` stays fast.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_SUBMODULES = (
    "activations", "backend", "backprop", "callbacks", "config", "constraints", "datasets",
    "initializers", "layers", "losses", "metrics", "models", "ops", "optimizers", "random",
    "regularizers",
    "saving", "utils",
    "data",
    "preprocessing",
    "distribute", "distribution",
)
# Public names that live in a submodule: name -> (module, attribute).
_ATTRIBUTES = {
    "Sequential": ("numkeras.models", "Sequential"),
    "Model": ("numkeras.models", "Model"),
    "Input": ("numkeras.layers", "Input"),
    "Tensor": ("numkeras.backprop", "Tensor"),
    "Variable": ("numkeras.backprop", "Variable"),
    "load_model": ("numkeras.models", "load_model"),
    # Keras 3's top-level base classes (issue 12)
    "Layer": ("numkeras.layers", "Layer"),
    "Loss": ("numkeras.losses", "Loss"),
    "Metric": ("numkeras.metrics", "Metric"),
    "Optimizer": ("numkeras.optimizers", "Optimizer"),
    "InputSpec": ("numkeras.layers", "InputSpec"),
    "KerasTensor": ("numkeras.layers", "KerasTensor"),
}

__all__ = sorted(_SUBMODULES + tuple(_ATTRIBUTES))


def __getattr__(name: str):
    if name in _SUBMODULES:
        module = importlib.import_module(f"numkeras.{name}")
        globals()[name] = module
        return module
    if name in _ATTRIBUTES:
        module_name, attribute = _ATTRIBUTES[name]
        value = getattr(importlib.import_module(module_name), attribute)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'numkeras' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
