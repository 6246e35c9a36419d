"""Every differentiable op of numkeras.ops against finite differences, in float64.

``GRADIENT_CASES`` must cover ``ops.__all__`` minus ``NOT_DIFFERENTIABLE`` (each entry there
says why): a new op without a gradient check fails ``test_every_op_is_checked``.
"""

import numpy as np
import pytest

from numkeras import ops
from numkeras.backprop import check_grads

RNG = np.random.default_rng(5)


def normal(*shape):
    return RNG.standard_normal(shape)


def positive(*shape):
    return RNG.uniform(0.5, 2.0, shape)


def inside(*shape):  # (-0.8, 0.8): inside the domains of arcsin, arctanh, erfinv...
    return RNG.uniform(-0.8, 0.8, shape)


def away(*shape):  # |x| in [0.2, 2]: away from the kinks at 0
    return RNG.uniform(0.2, 2.0, shape) * RNG.choice([-1.0, 1.0], shape)


def distinct(*shape):  # no ties, so max/min/sort are differentiable
    n = int(np.prod(shape))
    return (RNG.permutation(n).reshape(shape) * 0.31 + RNG.uniform(0, 0.1, shape))


def beyond_half(*shape):  # |x| in [0.7, 2]: away from the shrink thresholds at 0.5
    return RNG.uniform(0.7, 2.0, shape) * RNG.choice([-1.0, 1.0], shape)


# ----- which ops have no gradient, and why -----

NOT_DIFFERENTIABLE = {
    # creation: no tensor input to differentiate
    "zeros", "ones", "full", "zeros_like", "ones_like", "full_like", "empty", "empty_like",
    "arange", "linspace", "logspace", "geomspace", "eye", "identity", "tri", "meshgrid",
    "array",
    # piecewise constant: gradient zero almost everywhere (Keras/JAX return zeros too)
    "floor", "ceil", "trunc", "round", "sign", "signbit", "floor_divide", "heaviside", "imag",
    # booleans, predicates and comparisons
    "isnan", "isinf", "isfinite", "isneginf", "isposinf", "isreal", "equal", "not_equal",
    "greater", "greater_equal", "less", "less_equal", "logical_and", "logical_or",
    "logical_xor", "logical_not", "isclose", "allclose", "all", "any", "count_nonzero", "isin",
    "in_top_k",
    # integer results
    "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_invert", "bitwise_not",
    "bitwise_left_shift", "bitwise_right_shift", "left_shift", "right_shift", "argmax",
    "argmin", "argsort", "argpartition", "searchsorted", "digitize", "bincount", "nonzero",
    "unravel_index", "one_hot", "multi_hot", "saturate_cast", "ctc_decode",
    # metadata and gradient stops
    "shape", "ndim", "size", "dtype", "is_tensor", "convert_to_numpy", "stop_gradient",
    "nanargmax", "nanargmin", "histogram", "unique", "gcd", "lcm", "nextafter", "angle",
    "matrix_rank", "bartlett", "blackman", "hamming", "hanning", "kaiser",
    # gradients numkeras does not implement (Keras's JAX ones exist)
    "cholesky", "qr", "svd", "eigh", "eig", "lstsq", "lu_factor", "pinv", "i0",
}


def _elementwise(name, sampler=normal):
    op = getattr(ops, name)
    if name in ("softmax", "log_softmax"):  # need an axis
        return [(op, [sampler(3, 2)])]
    return [(op, [sampler(3, 2)]), (op, [sampler()])]


UNARY = {
    "abs": away, "absolute": away, "fabs": away, "negative": normal, "square": normal,
    "sqrt": positive, "rsqrt": positive, "exp": normal, "expm1": normal, "exp2": normal,
    "log": positive, "log1p": positive, "log2": positive, "log10": positive, "sin": normal,
    "cos": normal, "tan": inside, "arcsin": inside, "arccos": inside, "arctan": normal,
    "sinh": normal, "cosh": normal, "tanh": normal, "arcsinh": normal,
    "arccosh": lambda *s: positive(*s) + 1.0, "arctanh": inside, "cbrt": away,
    "deg2rad": normal, "rad2deg": normal, "sinc": away, "reciprocal": away, "erf": normal,
    "erfc": normal, "erfinv": inside, "copy": normal, "conj": normal, "conjugate": normal,
    "real": normal, "nan_to_num": normal, "relu": away, "relu6": away, "sigmoid": normal,
    "sparse_sigmoid": inside, "softplus": normal, "softsign": away, "sparse_plus": inside,
    "silu": normal, "swish": normal, "log_sigmoid": normal, "leaky_relu": away, "elu": away,
    "selu": away, "celu": away, "gelu": normal, "hard_sigmoid": normal, "hard_silu": normal,
    "hard_swish": normal, "tanh_shrink": normal, "hard_tanh": inside,
    "hard_shrink": beyond_half, "soft_shrink": beyond_half, "squareplus": normal,
    "softmax": normal, "log_softmax": normal, "ravel": normal, "convert_to_tensor": normal,
    "transpose": normal,
}

BINARY = {
    "add": (normal, normal), "subtract": (normal, normal), "multiply": (normal, normal),
    "divide": (normal, away), "true_divide": (normal, away), "divide_no_nan": (normal, away),
    "power": (positive, normal), "maximum": (distinct, lambda *s: distinct(*s) + 0.05),
    "minimum": (distinct, lambda *s: distinct(*s) + 0.05),
    "fmax": (distinct, lambda *s: distinct(*s) + 0.05),
    "fmin": (distinct, lambda *s: distinct(*s) + 0.05), "mod": (positive, positive),
    "fmod": (positive, positive), "arctan2": (normal, away), "logaddexp": (normal, normal),
    "logaddexp2": (normal, normal), "hypot": (away, away),
}

GRADIENT_CASES = {name: _elementwise(name, sampler) for name, sampler in UNARY.items()}
GRADIENT_CASES.update({
    name: [(getattr(ops, name), [first(3, 2), second(3, 2)]),
           (getattr(ops, name), [first(3, 2), second(1, 2)])]
    for name, (first, second) in BINARY.items()})


def _with_nans(x):
    x = x.copy()
    x[0, 1] = x[2, 3] = np.nan
    return x


@ops.custom_gradient
def _softplus_with_custom_gradient(x):
    # The guide's example: a hand-written gradient, here the exact one so the check applies.
    e = ops.exp(x)

    def grad(*args, upstream=None):
        if upstream is None:
            (upstream,) = args
        return ops.multiply(upstream, 1.0 - 1.0 / ops.add(1, e))

    return ops.log(1 + e), grad


def _flat(parts):
    return ops.concatenate([ops.ravel(p) for p in parts])


SQ = normal(3, 3) + 3 * np.eye(3)
LABELS = np.array([0, 2, 1, 2])

GRADIENT_CASES.update({
    # arithmetic and math with options
    "clip": [(lambda x: ops.clip(x, -0.5, 0.5), [away(3, 2) * 0.3])],
    "sparsemax": [(lambda x: ops.sparsemax(x), [normal(3, 4) * 0.5])],
    "glu": [(lambda x: ops.glu(x), [normal(3, 4)])],
    "threshold": [(lambda x: ops.threshold(x, 0.1, -1.0), [away(3, 2)])],
    "cast": [(lambda x: ops.cast(x * 1.0, "float64"), [normal(3)])],
    "where": [(lambda a, b: ops.where(a.data > 0, a, b), [away(3, 2), normal(3, 2)])],
    "select": [(lambda a, b: ops.select([a.data > 0.5, a.data < -0.5], [a, b], 0.0),
                [away(3, 2), normal(3, 2)])],
    # reductions
    **{name: [(lambda x, n=name: getattr(ops, n)(x), [distinct(3, 4)]),
              (lambda x, n=name: getattr(ops, n)(x, axis=1), [distinct(3, 4)]),
              (lambda x, n=name: getattr(ops, n)(x, axis=(0, 2), keepdims=True),
               [distinct(2, 3, 2)])]
       for name in ("sum", "mean", "max", "min", "amax", "amin", "ptp", "prod", "std", "var",
                    "logsumexp", "median", "nansum", "nanmean", "nanmax", "nanmin")},
    "average": [(lambda x, w: ops.average(x, axis=1, weights=w), [normal(3, 4), positive(4)])],
    "cumsum": [(lambda x: ops.cumsum(x, axis=1), [normal(3, 4)]), (ops.cumsum, [normal(2, 2)])],
    "cumprod": [(lambda x: ops.cumprod(x, axis=0), [away(3, 2)])],
    "quantile": [(lambda x: ops.quantile(x, np.array([0.3, 0.8]), axis=1), [distinct(3, 5)])],
    "percentile": [(lambda x: ops.percentile(x, 35.0, method="midpoint"), [distinct(3, 5)])],
    "norm": [(ops.norm, [normal(3, 4)]), (lambda x: ops.norm(x, ord=1), [away(3, 4)]),
             (lambda x: ops.norm(x, ord=3, axis=1), [away(3, 4)]),
             (lambda x: ops.norm(x, ord=np.inf, axis=0), [distinct(3, 4)])],
    # shape
    "reshape": [(lambda x: ops.reshape(x, (2, -1)), [normal(3, 4)])],
    "expand_dims": [(lambda x: ops.expand_dims(x, (0, 2)), [normal(3, 2)])],
    "squeeze": [(lambda x: ops.squeeze(x, 1), [normal(3, 1, 2)])],
    "moveaxis": [(lambda x: ops.moveaxis(x, (0, 1), (2, 0)), [normal(2, 3, 4)])],
    "swapaxes": [(lambda x: ops.swapaxes(x, 0, 2), [normal(2, 3, 4)])],
    "broadcast_to": [(lambda x: ops.broadcast_to(x, (4, 3)), [normal(3)])],
    "concatenate": [(lambda a, b: ops.concatenate([a, b], axis=1), [normal(2, 3), normal(2, 1)])],
    "stack": [(lambda a, b: ops.stack([a, b], axis=1), [normal(2, 3), normal(2, 3)])],
    "hstack": [(lambda a, b: ops.hstack([a, b]), [normal(2, 3), normal(2, 1)])],
    "vstack": [(lambda a, b: ops.vstack([a, b]), [normal(3), normal(2, 3)])],
    "dstack": [(lambda a, b: ops.dstack([a, b]), [normal(2, 3), normal(2, 3)])],
    "append": [(lambda a, b: ops.append(a, b), [normal(2, 3), normal(2)])],
    "split": [(lambda x: _flat(ops.split(x, [1, 3], axis=1)[::-1]), [normal(2, 4)])],
    "array_split": [(lambda x: _flat(ops.array_split(x, 3)[::-1]), [normal(5)])],
    "hsplit": [(lambda x: _flat(ops.hsplit(x, 2)[::-1]), [normal(2, 4)])],
    "vsplit": [(lambda x: _flat(ops.vsplit(x, 2)[::-1]), [normal(4, 2)])],
    "dsplit": [(lambda x: _flat(ops.dsplit(x, 2)[::-1]), [normal(2, 2, 4)])],
    "unstack": [(lambda x: _flat(ops.unstack(x, axis=1)[::-1]), [normal(2, 3)])],
    "tile": [(lambda x: ops.tile(x, (2, 3)), [normal(2, 2)])],
    "repeat": [(lambda x: ops.repeat(x, 2, axis=1), [normal(2, 3)]),
               (lambda x: ops.repeat(x, np.array([1, 0, 3])), [normal(3)])],
    "flip": [(lambda x: ops.flip(x, axis=1), [normal(2, 3)])],
    "fliplr": [(ops.fliplr, [normal(2, 3)])],
    "flipud": [(ops.flipud, [normal(2, 3)])],
    "roll": [(lambda x: ops.roll(x, 2, axis=1), [normal(2, 3)]), (lambda x: ops.roll(x, -1),
                                                                  [normal(2, 3)])],
    "rot90": [(lambda x: ops.rot90(x, k=3), [normal(2, 3)])],
    "pad": [(lambda x: ops.pad(x, ((1, 0), (2, 1))), [normal(2, 3)]),
            (lambda x: ops.pad(x, ((1, 2), (2, 1)), mode="reflect"), [normal(3, 3)]),
            (lambda x: ops.pad(x, 2, mode="wrap"), [normal(2, 3)])],
    "diag": [(ops.diag, [normal(3)]), (lambda x: ops.diag(x, k=-1), [normal(3)]),
             (lambda x: ops.diag(x, k=1), [normal(3, 3)])],
    "diagflat": [(ops.diagflat, [normal(2, 2)])],
    "diagonal": [(lambda x: ops.diagonal(x, 1, 1, 2), [normal(2, 3, 4)])],
    "trace": [(ops.trace, [normal(3, 3)])],
    "tril": [(ops.tril, [normal(3, 4)])],
    "triu": [(lambda x: ops.triu(x, 1), [normal(3, 4)])],
    "diff": [(lambda x: ops.diff(x, n=2), [normal(2, 5)])],
    "trapezoid": [(ops.trapezoid, [normal(2, 5)]),
                  (lambda y, x: ops.trapezoid(y, x=x), [normal(5), distinct(5)])],
    "vander": [(ops.vander, [normal(3)])],
    # indexing and sorting
    "take": [(lambda x: ops.take(x, np.array([2, 0, 2]), axis=1), [normal(2, 3)]),
             (lambda x: ops.take(x, np.array([[0, 5], [-1, 3]])), [normal(2, 3)])],
    "take_along_axis": [(lambda x: ops.take_along_axis(x, np.array([[1, 0, 1]]), axis=0),
                         [normal(2, 3)])],
    "sort": [(lambda x: ops.sort(x, axis=0), [distinct(3, 2)])],
    "top_k": [(lambda x: ops.top_k(x, 2)[0], [distinct(3, 4)])],
    "get_item": [(lambda x: ops.get_item(x, (slice(1, None), np.array([0, 0]))),
                  [normal(3, 2)])],
    "slice": [(lambda x: ops.slice(x, (1, 0), (2, -1)), [normal(3, 2)])],
    "slice_update": [(lambda x, u: ops.slice_update(x, (1, 1), u), [normal(3, 3), normal(2, 1)])],
    "segment_sum": [(lambda x: ops.segment_sum(x, np.array([1, 0, 1])), [normal(3, 2)])],
    "segment_max": [(lambda x: ops.segment_max(x, np.array([1, 0, 1])), [distinct(3, 2)])],
    "segment_min": [(lambda x: ops.segment_min(x, np.array([1, 0, 1])), [distinct(3, 2)])],
    "extract_sequences": [(lambda x: ops.extract_sequences(x, 3, 2), [normal(2, 7)])],
    # linear algebra
    "matmul": [(ops.matmul, [normal(2, 3, 4), normal(4, 2)])],
    "dot": [(ops.dot, [normal(3, 4), normal(4)]), (ops.dot, [normal(2, 3), normal(2, 3, 2)])],
    "vdot": [(ops.vdot, [normal(2, 3), normal(2, 3)])],
    "inner": [(ops.inner, [normal(2, 3), normal(4, 3)])],
    "outer": [(ops.outer, [normal(3), normal(2)])],
    "kron": [(ops.kron, [normal(2, 2), normal(2, 3)])],
    "tensordot": [(lambda a, b: ops.tensordot(a, b, axes=([0, 2], [1, 0])),
                   [normal(2, 3, 4), normal(4, 2, 5)])],
    "cross": [(ops.cross, [normal(2, 3), normal(2, 3)])],
    "einsum": [(lambda a, b: ops.einsum("...ij,jk", a, b), [normal(2, 3, 4), normal(4, 2)]),
               (lambda a: ops.einsum("ij->", a), [normal(2, 3)])],
    "inv": [(ops.inv, [SQ])],
    "det": [(ops.det, [SQ])],
    "logdet": [(ops.logdet, [SQ @ SQ.T])],
    "solve": [(ops.solve, [SQ, normal(3, 2)]), (ops.solve, [SQ, normal(3)])],
    "solve_triangular": [(lambda a, b: ops.solve_triangular(a, b, lower=True),
                          [SQ, normal(3, 2)])],
    # nn
    "moments": [(lambda x: _flat(ops.moments(x, axes=[0, 1])), [normal(2, 3, 2)])],
    "batch_normalization": [
        (lambda x, m, v, o, s: ops.batch_normalization(x, m, v, -1, o, s),
         [normal(3, 2), normal(2), positive(2), normal(2), normal(2)])],
    "normalize": [(ops.normalize, [normal(3, 4)]),
                  (lambda x: ops.normalize(x, axis=0, order=1), [away(3, 4)])],
    "layer_normalization": [(lambda x, g, b: ops.layer_normalization(x, g, b),
                             [normal(3, 4), normal(4), normal(4)])],
    "rms_normalization": [(lambda x, s: ops.rms_normalization(x, s), [normal(3, 4), normal(4)])],
    "psnr": [(lambda a, b: ops.psnr(a, b, 2.0), [normal(3, 4), normal(3, 4)])],
    "categorical_crossentropy": [
        (lambda p: ops.categorical_crossentropy(np.eye(3)[LABELS], p), [positive(4, 3)]),
        (lambda z: ops.categorical_crossentropy(np.eye(3)[LABELS], z, from_logits=True),
         [normal(4, 3)])],
    "sparse_categorical_crossentropy": [
        (lambda p: ops.sparse_categorical_crossentropy(LABELS, p), [positive(4, 3)]),
        (lambda z: ops.sparse_categorical_crossentropy(LABELS, z, from_logits=True),
         [normal(4, 3)])],
    "binary_crossentropy": [
        (lambda p: ops.binary_crossentropy(np.array([0.0, 1.0, 1.0]), p),
         [RNG.uniform(0.1, 0.9, 3)]),
        (lambda z: ops.binary_crossentropy(np.array([0.0, 1.0, 1.0]), z, from_logits=True),
         [away(3)])],
    "conv": [(lambda x, k: ops.conv(x, k, strides=2, padding="same"),
              [normal(2, 5, 4, 2), normal(3, 2, 2, 3)]),
             (lambda x, k: ops.conv(x, k, dilation_rate=2), [normal(2, 7, 2), normal(2, 2, 3)])],
    "conv_transpose": [(lambda x, k: ops.conv_transpose(x, k, strides=2),
                        [normal(1, 3, 3, 2), normal(2, 2, 3, 2)])],
    "depthwise_conv": [(lambda x, k: ops.depthwise_conv(x, k, padding="same"),
                        [normal(1, 4, 4, 2), normal(3, 3, 2, 2)])],
    "separable_conv": [(lambda x, d, p: ops.separable_conv(x, d, p),
                        [normal(1, 4, 4, 2), normal(2, 2, 2, 2), normal(1, 1, 4, 3)])],
    "max_pool": [(lambda x: ops.max_pool(x, 2, strides=1), [distinct(1, 3, 4, 2)])],
    "average_pool": [(lambda x: ops.average_pool(x, 3, strides=2, padding="same"),
                      [normal(1, 5, 4, 2)])],
    "depth_to_space": [(lambda x: ops.depth_to_space(x, 2), [normal(1, 2, 2, 8)])],
    "space_to_depth": [(lambda x: ops.space_to_depth(x, 2), [normal(1, 2, 4, 2)])],
    "dot_product_attention": [
        (lambda q, k, v: ops.dot_product_attention(q, k, v, is_causal=True),
         [normal(1, 3, 2, 2), normal(1, 3, 2, 2), normal(1, 3, 2, 2)])],
    # NaN-skipping reductions (the NaNs get no gradient)
    **{name: [(lambda x, n=name: getattr(ops, n)(x, axis=1), [_with_nans(distinct(3, 4))])]
       for name in ("nanmedian", "nanprod", "nanvar", "nanstd", "nancumsum", "nancumprod")},
    "nanquantile": [(lambda x: ops.nanquantile(x, 0.3, axis=1), [_with_nans(distinct(3, 4))])],
    "nanpercentile": [(lambda x: ops.nanpercentile(x, 60.0), [_with_nans(distinct(3, 4))])],
    "cdist": [(ops.cdist, [normal(2, 3, 2), normal(2, 4, 2)])],
    "correlate": [(lambda a, b: ops.correlate(a, b, mode="same"), [normal(5), normal(3)]),
                  (lambda a, b: ops.correlate(a, b, mode="full"), [normal(2), normal(4)])],
    "corrcoef": [(ops.corrcoef, [normal(3, 5)])],
    "ldexp": [(lambda x: ops.ldexp(x, np.array([1, -2, 3])), [normal(3)])],
    "segment_prod": [(lambda x: ops.segment_prod(x, np.array([1, 0, 1])), [away(3, 2)])],
    "slogdet": [(lambda x: ops.slogdet(x)[1], [SQ])],
    "cholesky_inverse": [(ops.cholesky_inverse, [np.linalg.cholesky(SQ @ SQ.T)]),
                         (lambda x: ops.cholesky_inverse(x, upper=True),
                          [np.linalg.cholesky(SQ @ SQ.T).T])],
    "scatter": [(lambda v: ops.scatter(np.array([[0, 1], [0, 1], [2, 0]]), v, (3, 2)),
                 [normal(3)])],
    "scatter_update": [
        (lambda x, u: ops.scatter_update(x, np.array([[0, 1], [2, 0], [0, 1]]), u),
         [normal(3, 2), normal(3)]),
        (lambda x, u: ops.scatter_update(x, np.array([[1]]), u, reduction="add"),
         [normal(3, 2), normal(1, 2)])],
    "associative_scan": [(lambda x: ops.associative_scan(ops.multiply, x, axis=1),
                          [normal(2, 3)]),
                         (lambda x: ops.associative_scan(ops.add, x, reverse=True),
                          [normal(3, 2)])],
    "custom_gradient": [(lambda x: _softplus_with_custom_gradient(x), [normal(3)])],
    # Fourier transforms: (real, imaginary) pairs in and out
    "fft": [(lambda a, b: _flat(ops.fft((a, b))), [normal(2, 5), normal(2, 5)])],
    "fft2": [(lambda a, b: _flat(ops.fft2((a, b))), [normal(2, 3, 4), normal(2, 3, 4)])],
    "ifft2": [(lambda a, b: _flat(ops.ifft2((a, b))), [normal(3, 4), normal(3, 4)])],
    "rfft": [(lambda x: _flat(ops.rfft(x)), [normal(2, 6)]),
             (lambda x: _flat(ops.rfft(x, fft_length=7)), [normal(5)])],
    "irfft": [(lambda a, b: ops.irfft((a, b)), [normal(2, 4), normal(2, 4)]),
              (lambda a, b: ops.irfft((a, b), fft_length=5), [normal(3), normal(3)])],
    "stft": [(lambda x: _flat(ops.stft(x, 6, 3, 8)), [normal(2, 12)])],
    "istft": [(lambda a, b: ops.istft((a, b), 6, 2, 8, window="hamming"),
               [normal(4, 5), normal(4, 5)])],
    # patches, adaptive pooling, rearrange, vectorize
    "unfold": [(lambda x: ops.unfold(x, (3, 2), dilation=(1, 2), padding=1, stride=2),
                [normal(1, 2, 5, 6)])],
    "fold": [(lambda x: ops.fold(x, (4, 4), 2, stride=1), [normal(1, 8, 9)])],
    "adaptive_average_pool": [(lambda x: ops.adaptive_average_pool(x, (2, 3)),
                               [normal(1, 5, 4, 2)])],
    "adaptive_max_pool": [(lambda x: ops.adaptive_max_pool(x, (2, 3)), [distinct(1, 5, 4, 2)])],
    "rearrange": [(lambda x: ops.rearrange(x, "b (h p) w -> (b h) (w p)", p=2),
                   [normal(2, 4, 3)])],
    "vectorize": [(lambda a, b: ops.vectorize(lambda u, v: ops.sin(u) * v)(a, b),
                   [normal(3, 2), normal(2)]),
                  (lambda m, v: ops.vectorize(ops.matmul, signature="(m,n),(n)->(m)")(m, v),
                   [normal(2, 3, 4), normal(4)])],
    "ctc_loss": [(lambda z: ops.ctc_loss(np.array([[1, 1], [2, 0]]), z, np.array([2, 1]),
                                         np.array([4, 3])), [normal(2, 4, 3)])],
    # control flow: the gradient flows through the functions they run
    "cond": [(lambda x: ops.cond(True, lambda: ops.sin(x), lambda: x), [normal(3)])],
    "switch": [(lambda x: ops.switch(1, [ops.exp, ops.cos], x), [normal(3)])],
    "fori_loop": [(lambda x: ops.fori_loop(0, 3, lambda i, v: ops.sin(v) * x, x), [normal(3)])],
    "while_loop": [(lambda x: ops.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, v * x),
                                             (0, x))[1], [normal(3)])],
    "map": [(lambda x: ops.map(lambda row: ops.sum(row * row), x), [normal(3, 2)])],
    "vectorized_map": [(lambda x: ops.vectorized_map(ops.softmax, x), [normal(3, 2)])],
    "scan": [(lambda x: _flat(ops.scan(lambda c, r: (c * r, c + r), ops.ones(2, "float64"), x)),
              [normal(3, 2)])],
})


def test_every_op_is_checked():
    expected = set(ops.__all__) - NOT_DIFFERENTIABLE
    assert set(GRADIENT_CASES) == expected, (
        f"ops without a gradient check: {sorted(expected - set(GRADIENT_CASES))}; listed "
        f"but not differentiable ops: {sorted(set(GRADIENT_CASES) - expected)}")
    assert not NOT_DIFFERENTIABLE - set(ops.__all__)


@pytest.mark.parametrize("name,index", [(name, i) for name, cases in sorted(GRADIENT_CASES.items())
                                        for i in range(len(cases))])
def test_gradient_matches_finite_differences(name, index):
    op, inputs = GRADIENT_CASES[name][index]
    assert check_grads(op, *inputs)


@pytest.mark.parametrize("name", ["floor", "round", "argmax", "one_hot", "equal"])
def test_non_differentiable_ops_give_constants(name):
    from numkeras.backprop import Tensor

    x = Tensor(np.array([0.4, 1.6]), requires_grad=True)
    args = {"one_hot": (np.array([0, 1]), 2), "equal": (x, x)}.get(name, (x,))
    assert not getattr(ops, name)(*args).requires_grad


IMAGE_GRADIENT_CASES = {
    "resize": [(lambda x, m=m: ops.image.resize(x, (5, 3), interpolation=m),
                [normal(1, 3, 4, 2)]) for m in ("bilinear", "nearest", "bicubic", "lanczos3")]
    + [(lambda x: ops.image.resize(x, (2, 2), antialias=True), [normal(4, 5, 1)])],
    "pad_images": [(lambda x: ops.image.pad_images(x, 1, 2, 0, 1), [normal(2, 3, 1)])],
    "crop_images": [(lambda x: ops.image.crop_images(x, 1, 0, target_height=2,
                                                     target_width=2), [normal(4, 3, 2)])],
    "extract_patches": [(lambda x: ops.image.extract_patches(x, 2, strides=1),
                         [normal(1, 3, 3, 2)])],
    "rgb_to_grayscale": [(ops.image.rgb_to_grayscale, [normal(2, 2, 3)])],
    "rgb_to_hsv": [(ops.image.rgb_to_hsv, [distinct(2, 2, 3) / 4 + 0.1])],
    "hsv_to_rgb": [(ops.image.hsv_to_rgb, [np.array([[[0.1, 0.5, 0.7], [0.45, 0.2, 0.9],
                                                       [0.8, 0.9, 0.3]]])])],
    "gaussian_blur": [(lambda x: ops.image.gaussian_blur(x, (3, 5), (1.0, 2.0)),
                       [normal(1, 4, 5, 2)])],
}


def test_every_image_op_is_checked():
    assert set(IMAGE_GRADIENT_CASES) == set(ops.image.__all__)


@pytest.mark.parametrize("name,index", [(name, i) for name, cases in
                                        sorted(IMAGE_GRADIENT_CASES.items())
                                        for i in range(len(cases))])
def test_image_gradient_matches_finite_differences(name, index):
    op, inputs = IMAGE_GRADIENT_CASES[name][index]
    assert check_grads(op, *inputs)
