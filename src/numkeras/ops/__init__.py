"""``numkeras.ops``: Keras 3's ``keras.ops`` on numkeras Tensors.

The NumPy-like ops (:mod:`numkeras.ops.numpy`), the neural-network ops (:mod:`.nn`), math
(:mod:`.math`), linear algebra (:mod:`.linalg`) and core ops (:mod:`.core`), all under one
namespace as in Keras; image ops stay in :mod:`.image` (``ops.image.resize``). Each accepts
NumPy arrays, Python numbers and Tensors/Variables and returns a :class:`numkeras.Tensor`,
differentiable where Keras's op is (see docs/ops.md).

>>> from numkeras import ops
>>> x = ops.convert_to_tensor([[1.0, 2.0], [3.0, 4.0]])
>>> ops.mean(ops.square(x), axis=1)
Tensor([ 2.5, 12.5], dtype=float32)
"""

from numkeras.ops import core, image, linalg, math, nn, numpy  # noqa: F401 - ops.image as Keras
from numkeras.ops.core import *  # noqa: F403
from numkeras.ops.linalg import *  # noqa: F403
from numkeras.ops.math import *  # noqa: F403
from numkeras.ops.nn import *  # noqa: F403
from numkeras.ops.numpy import *  # noqa: F403

__all__ = sorted(set(core.__all__) | set(numpy.__all__) | set(nn.__all__) | set(math.__all__)
                 | set(linalg.__all__))

# On symbolic tensors (from keras.Input) each op records a graph node instead of computing
# (utils/symbolic.py); the submodules' own functions, which the ops call among themselves, stay
# unwrapped, so only the user's call pays the one scan of its arguments.
def _wrap_for_symbols():
    import inspect

    from numkeras.utils.symbolic import symbolic_aware

    for name in __all__:
        value = globals()[name]
        if inspect.isfunction(value) and name not in _VALUE_ONLY:
            globals()[name] = symbolic_aware(value, name)


# Ops that read a tensor's static facts or convert it, never nodes (as in Keras).
_VALUE_ONLY = frozenset({"shape", "ndim", "dtype", "is_tensor", "convert_to_numpy", "size"})
_wrap_for_symbols()
