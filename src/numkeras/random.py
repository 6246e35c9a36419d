"""Random tensors (Keras 3's ``keras.random``), seeded like Keras's.

``seed`` may be:

- ``None``: a fresh draw from numkeras's global seed, so ``numkeras.utils.set_random_seed``
  (or ``numkeras.config.set_random_seed``) makes a whole run repeat;
- an ``int``: the same numbers on every call with that seed (Keras's integer seeds are
  stateless too);
- a :class:`SeedGenerator`: new numbers on every call, the sequence fixed by the generator's
  own seed.

>>> import numkeras
>>> from numkeras import random
>>> bool((random.normal((3,), seed=1).numpy() == random.normal((3,), seed=1).numpy()).all())
True
>>> generator = random.SeedGenerator(7)
>>> bool((random.uniform((3,), seed=generator).numpy()
...       == random.uniform((3,), seed=generator).numpy()).all())
False
"""

from __future__ import annotations

import numpy as np

from numkeras import config
from numkeras.backprop import ops as _p
from numkeras.backprop.tensor import Tensor
from numkeras.backprop.variable import Variable
from numkeras.ops.core import standardize_dtype, to_float, to_tensor, value

__all__ = [
    "SeedGenerator", "beta", "binomial", "categorical", "dropout", "gamma", "normal",
    "randint", "shuffle", "truncated_normal", "uniform",
]


class SeedGenerator:
    """A source of seeds: each :meth:`next` gives a new one, the sequence fixed by ``seed``.

    Args:
        seed: an int, or None to take one from the global seed (``set_random_seed``).
        name: a name for the generator's state variable.

    >>> a, b = SeedGenerator(3), SeedGenerator(3)
    >>> a.next().tolist() == b.next().tolist()
    True
    """

    def __init__(self, seed=None, name=None, **kwargs):
        if seed is None:
            seed = int(config.make_rng().integers(2 ** 31))
        elif not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
            raise ValueError(f"SeedGenerator: seed must be a non-negative int or None, got "
                             f"{seed!r}.")
        self._initial_seed = int(seed)
        self.name = name or "seed_generator"
        self.state = Variable(np.array([seed, 0], dtype=np.uint32), name=f"{self.name}_state",
                              trainable=False)

    def next(self, ordered=True) -> np.ndarray:
        """The current seed (two uint32 words), then advance the state."""
        current = self.state.data.copy()
        self.state.assign(current + np.array([0, 1], dtype=np.uint32))
        return current

    def get_config(self) -> dict:
        return {"seed": self._initial_seed}

    @classmethod
    def from_config(cls, config_):
        return cls(**config_)


def _rng(seed) -> np.random.Generator:
    """The generator for one call, by Keras's seed rules (see the module docstring)."""
    if seed is None:
        return config.make_rng()
    if isinstance(seed, SeedGenerator):
        return np.random.default_rng(seed.next().astype(np.int64).tolist())
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0:
        return np.random.default_rng(int(seed))
    if isinstance(seed, (tuple, list, np.ndarray, Tensor)):  # Keras's (2,) seed tensors
        return np.random.default_rng(np.asarray(value(seed)).astype(np.int64).tolist())
    raise ValueError(f"seed must be None, a non-negative int or a SeedGenerator, got {seed!r}.")


def _float_dtype(dtype, name: str) -> str:
    dtype = standardize_dtype(dtype) or config.floatx()
    if np.dtype(dtype).kind != "f":
        raise ValueError(f"random.{name} draws floats; got dtype={dtype!r}. Use randint for "
                         f"integers.")
    return dtype


def _shape(shape) -> tuple:
    return (int(shape),) if np.isscalar(shape) else tuple(int(n) for n in value(shape))


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None) -> Tensor:
    """Draws from a normal distribution.

    >>> normal((2, 3), seed=0).shape
    (2, 3)
    """
    dtype = _float_dtype(dtype, "normal")
    draws = _rng(seed).normal(value(mean), value(stddev), _shape(shape))
    return Tensor(draws.astype(dtype))


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None) -> Tensor:
    """Draws from the uniform distribution on ``[minval, maxval)``.

    >>> float(uniform((100,), 2.0, 3.0, seed=0).numpy().min()) >= 2.0
    True
    """
    dtype = _float_dtype(dtype, "uniform")
    draws = _rng(seed).uniform(value(minval), value(maxval), _shape(shape))
    return Tensor(draws.astype(dtype))


def randint(shape, minval, maxval, dtype="int32", seed=None) -> Tensor:
    """Integers drawn uniformly from ``[minval, maxval)``.

    >>> randint((4,), 0, 1, seed=0)
    Tensor([0, 0, 0, 0], dtype=int32)
    """
    dtype = standardize_dtype(dtype)
    if np.dtype(dtype).kind not in "iu":
        raise ValueError(f"random.randint draws integers; got dtype={dtype!r}.")
    draws = _rng(seed).integers(value(minval), value(maxval), _shape(shape))
    return Tensor(draws.astype(dtype))


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None) -> Tensor:
    """Normal draws redrawn until within two standard deviations of the mean."""
    dtype = _float_dtype(dtype, "truncated_normal")
    rng = _rng(seed)
    draws = rng.standard_normal(_shape(shape))
    outside = np.abs(draws) > 2
    while outside.any():  # about 5% of the draws each round, so a handful of rounds
        draws[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(draws) > 2
    return Tensor((draws * value(stddev) + value(mean)).astype(dtype))


def dropout(inputs, rate, noise_shape=None, seed=None) -> Tensor:
    """``inputs`` with each entry zeroed with probability ``rate`` and the rest scaled by
    ``1 / (1 - rate)`` (differentiable in ``inputs``). ``noise_shape`` shares one draw along
    its size-1 axes.

    >>> out = dropout(np.ones(1000, "float32"), 0.5, seed=0).numpy()
    >>> sorted(set(out.tolist()))
    [0.0, 2.0]
    """
    x = to_float(inputs)
    rate = float(value(rate))
    if not 0 <= rate < 1:
        raise ValueError(f"random.dropout: rate must lie in [0, 1), got {rate}.")
    shape = x.shape if noise_shape is None else tuple(
        n if m is None else int(m) for n, m in zip(x.shape, noise_shape))
    keep = _rng(seed).random(shape) >= rate
    scale = (keep / (1.0 - rate)).astype(x.dtype)
    return _p.multiply(x, scale)


def shuffle(x, axis=0, seed=None) -> Tensor:
    """``x`` with its slices along ``axis`` in a random order (differentiable).

    >>> sorted(shuffle(np.arange(5), seed=0).numpy().tolist())
    [0, 1, 2, 3, 4]
    """
    x = to_tensor(x)
    position = axis % x.ndim
    order = _rng(seed).permutation(x.shape[position])
    return _p.getitem(x, index=(slice(None),) * position + (order,))


def categorical(logits, num_samples, dtype="int32", seed=None) -> Tensor:
    """``num_samples`` class indices per row of ``(batch, classes)`` ``logits`` (unnormalised
    log-probabilities), by the Gumbel-max trick: ``(batch, num_samples)``.

    >>> categorical([[0.0, -1e9]], 3, seed=0)
    Tensor([[0, 0, 0]], dtype=int32)
    """
    scores = np.asarray(value(logits), dtype=np.float64)
    if scores.ndim != 2:
        raise ValueError(f"random.categorical needs logits of shape (batch, classes), got "
                         f"{scores.shape}.")
    gumbel = -np.log(-np.log(_rng(seed).uniform(np.finfo(np.float64).tiny, 1.0,
                                                 scores.shape[:1] + (int(num_samples),)
                                                 + scores.shape[1:])))
    return Tensor(np.argmax(scores[:, None, :] + gumbel, axis=-1).astype(
        standardize_dtype(dtype)))


def gamma(shape, alpha, dtype=None, seed=None) -> Tensor:
    """Draws from the gamma distribution with shape ``alpha`` and scale 1."""
    dtype = _float_dtype(dtype, "gamma")
    return Tensor(_rng(seed).gamma(value(alpha), 1.0, _shape(shape)).astype(dtype))


def beta(shape, alpha, beta, dtype=None, seed=None) -> Tensor:
    """Draws from the beta distribution with parameters ``alpha`` and ``beta``."""
    dtype = _float_dtype(dtype, "beta")
    return Tensor(_rng(seed).beta(value(alpha), value(beta), _shape(shape)).astype(dtype))


def binomial(shape, counts, probabilities, dtype=None, seed=None) -> Tensor:
    """Draws of the number of successes in ``counts`` trials of probability
    ``probabilities`` (floatx, as Keras)."""
    dtype = standardize_dtype(dtype) or config.floatx()
    draws = _rng(seed).binomial(value(counts), value(probabilities), _shape(shape))
    return Tensor(draws.astype(dtype))
