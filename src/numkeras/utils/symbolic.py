"""Symbolic calls of ``keras.ops``: the hook between the ops (level 2) and the functional graph
(layers, level 3), which the ops may not import.

``keras.ops.add(x, 1.0)`` on a symbolic tensor from ``keras.Input`` computes nothing: as in
Keras 3, it records an operation node in the graph. The layers package registers its symbolic
tensor type and the handler that records the node; :func:`symbolic_aware` wraps each public op
so that a call with such a tensor among its arguments goes to that handler.

>>> calls = []
>>> class Symbol: pass
>>> register(Symbol, lambda name, function, args, kwargs: calls.append(name) or "node")
>>> def double(x): return 2 * x
>>> op = symbolic_aware(double)
>>> op(3), op(Symbol()), calls
(6, 'node', ['double'])
>>> unregister(Symbol)
"""

from __future__ import annotations

import functools

_TYPES: set = set()
_HANDLER = [None]


class SymbolicInputError(TypeError):
    """A symbolic tensor (from ``keras.Input``) reached code that needs values."""


def register(tensor_type: type, handler) -> None:
    """Send op calls with a ``tensor_type`` argument to ``handler(name, function, args,
    kwargs)`` (``name``: the op's public name, which an alias's function may not have)."""
    _TYPES.add(tensor_type)
    _HANDLER[0] = handler


def unregister(tensor_type: type) -> None:
    _TYPES.discard(tensor_type)
    if not _TYPES:
        _HANDLER[0] = None


def _holds_symbol(value) -> bool:
    kind = type(value)
    if kind in _TYPES:
        return True
    if kind is list or kind is tuple:
        return any(_holds_symbol(item) for item in value)
    if kind is dict:
        return any(_holds_symbol(item) for item in value.values())
    return False


def symbolic_aware(function, name: str | None = None):
    """``function`` that hands calls with a symbolic argument to the registered handler
    (one scan of the arguments; plain values go straight to ``function``); ``name`` is the
    op's public name (default: the function's)."""
    name = name or function.__name__

    @functools.wraps(function)
    def op(*args, **kwargs):
        if _TYPES and (any(_holds_symbol(a) for a in args)
                       or any(_holds_symbol(v) for v in kwargs.values())):
            return _HANDLER[0](name, function, args, kwargs)
        return function(*args, **kwargs)

    op.symbolic_function = function
    return op
