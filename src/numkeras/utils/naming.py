"""Automatic, unique object names: ``dense``, ``dense_1``, ``dense_2`` ... as Keras gives them."""

from __future__ import annotations

import re

_counters: dict[str, int] = {}


def to_snake_case(name: str) -> str:
    """Keras's snake_case of a class name.

    >>> [to_snake_case(n) for n in ("Dense", "Conv2D", "LeakyReLU", "BatchNormalization")]
    ['dense', 'conv2d', 'leaky_re_lu', 'batch_normalization']
    """
    name = re.sub(r"\W+", "", name)
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub(r"([a-z])([A-Z])", r"\1_\2", name)
    return name.lower()


def unique_name(prefix: str) -> str:
    """``prefix`` the first time, then ``prefix_1``, ``prefix_2`` ... until :func:`reset`."""
    count = _counters.get(prefix, 0)
    _counters[prefix] = count + 1
    return prefix if count == 0 else f"{prefix}_{count}"


def reset() -> None:
    """Forget every name handed out (``numkeras.utils.clear_session()`` calls this)."""
    _counters.clear()
