"""Sample calls of ``keras.ops``, shared by the value tests and the Keras capture script.

Each case is ``(key, name, args, kwargs)``: ``ops.<name>(*args, **kwargs)`` must give the same
shapes, dtypes and values (within 1e-5) in numkeras and in Keras 3 on JAX. Inputs are small,
float32 (Keras's floatx) or int32, and fixed by a seeded generator, so the capture script and
the tests see the same numbers.
"""

import numpy as np

RNG = np.random.default_rng(12)


def normal(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def uniform(low, high, *shape):
    return RNG.uniform(low, high, shape).astype(np.float32)


def ints(low, high, *shape):
    return RNG.integers(low, high, shape).astype(np.int32)


A = normal(3, 4)
B = normal(3, 4)
V = normal(5)
P = uniform(0.1, 2.0, 3, 4)  # positive
U = uniform(-0.9, 0.9, 3, 4)  # inside (-1, 1)
I = ints(-5, 6, 3, 4)  # noqa: E741 - integer matrix
IP = ints(1, 6, 3, 4)  # positive integers
M = normal(4, 2)
SQ = (normal(3, 3) + 3 * np.eye(3)).astype(np.float32)
T3 = normal(2, 3, 4)
IMG = normal(2, 5, 6, 3)
SEQ = normal(2, 7, 3)
PROBS = np.abs(normal(4, 3)) + 0.1
LABELS = np.array([0, 2, 1, 2], np.int32)
ONEHOT = np.eye(3, dtype=np.float32)[LABELS]
MASK = A > 0

CASES = []


def resolve(ops, name):
    """``ops.<name>``, also for dotted names such as ``image.resize``."""
    for part in name.split("."):
        ops = getattr(ops, part)
    return ops


def case(name, *args, _key=None, **kwargs):
    key = _key or name
    if any(existing == key for existing, *_ in CASES):
        key = f"{key}_{sum(existing.startswith(key) for existing, *_ in CASES)}"
    CASES.append((key, name, args, kwargs))


# ----- creation -----
case("zeros", (2, 3))
case("ones", (2,), dtype="int32")
case("full", (2, 2), 7)
case("full", (2,), 1.5)
case("zeros_like", I)
case("ones_like", A)
case("full_like", A, 2)
case("arange", 5)
case("arange", 1, 7, 2)
case("arange", 0.0, 1.0, 0.25)
case("linspace", 0, 1, 5)
case("logspace", 0, 2, 3)
case("geomspace", 1, 8, 4)
case("eye", 3)
case("eye", 3, 4, 1)
case("identity", 2)
case("tri", 3)
case("meshgrid", V[:2], V[:3])
case("array", [1, 2])

# ----- arithmetic -----
for binary in ("add", "subtract", "multiply", "maximum", "minimum"):
    case(binary, A, B)
    case(binary, A, 2.0)
case("add", I, A)
case("add", I, 3)
case("multiply", I, IP)
case("divide", A, P)
case("divide", I, IP)
case("true_divide", A, P)
case("divide_no_nan", A, np.where(MASK, B, 0).astype(np.float32))
case("floor_divide", A, P)
case("floor_divide", I, IP)
case("mod", A, P)
case("mod", I, IP)
case("fmod", A, P)
case("power", P, A)
case("power", A, 2)
case("power", I, 2)
case("negative", A)
case("reciprocal", P)
for unary in ("abs", "absolute", "fabs", "square", "exp", "expm1", "sin", "cos", "tan",
              "arctan", "sinh", "cosh", "arcsinh", "tanh", "sign", "floor", "ceil", "trunc",
              "round", "cbrt", "exp2", "deg2rad", "rad2deg", "sinc", "signbit", "isnan",
              "isinf", "isfinite", "isneginf", "isposinf", "copy", "conj", "real", "imag",
              "erf", "erfc"):
    case(unary, A)
for positive in ("sqrt", "log", "log1p", "log2", "log10", "rsqrt"):
    case(positive, P)
for unit in ("arcsin", "arccos", "arctanh", "erfinv"):
    case(unit, U)
case("arccosh", P + 1)
case("abs", I)
case("square", I)
case("exp", I)
case("sqrt", IP)
case("round", A * 10, decimals=1)
case("arctan2", A, B)
case("logaddexp", A, B)
case("logaddexp2", A, B)
case("hypot", A, B)
case("heaviside", A, np.float32(0.5))
case("fmax", A, B)
case("fmin", A, B)
case("clip", A, -0.5, 0.5)
case("clip", I, -2, 2)
case("nan_to_num", np.array([np.nan, np.inf, -np.inf, 1.0], np.float32))

# ----- comparisons and logic -----
for compare in ("equal", "not_equal", "greater", "greater_equal", "less", "less_equal"):
    case(compare, A, B)
    case(compare, I, 0)
for logical in ("logical_and", "logical_or", "logical_xor"):
    case(logical, MASK, B > 0)
case("logical_not", MASK)
case("isclose", A, A + 1e-7)
case("allclose", A, A + 1e-3)
for bitwise in ("bitwise_and", "bitwise_or", "bitwise_xor"):
    case(bitwise, I, IP)
case("bitwise_invert", I)
case("bitwise_not", I)
case("left_shift", IP, 2)
case("right_shift", IP, 1)
case("bitwise_left_shift", IP, 1)
case("bitwise_right_shift", IP, 2)

# ----- reductions -----
for reduce in ("sum", "mean", "max", "min", "prod", "std", "var", "amax", "amin", "ptp",
               "logsumexp", "median", "nansum", "nanmean", "nanmax", "nanmin"):
    case(reduce, A)
    case(reduce, A, axis=1)
    case(reduce, T3, axis=(0, 2), keepdims=True)
for reduce in ("sum", "max", "min", "prod", "mean"):
    case(reduce, I, axis=0)
case("sum", MASK)
case("max", A, axis=0, initial=0.5)
case("argmax", A)
case("argmax", A, axis=1)
case("argmin", A, axis=0, keepdims=True)
case("all", MASK, axis=1)
case("any", MASK)
case("count_nonzero", I, axis=0)
case("cumsum", A, axis=1)
case("cumsum", I)
case("cumprod", A, axis=0)
case("average", A, axis=1, weights=V[:4] ** 2)
case("quantile", A, 0.3, axis=1)
case("quantile", A, np.array([0.25, 0.5, 0.9]))
case("percentile", A, 40.0, axis=0, method="lower")
case("percentile", A, 40.0, axis=0, method="higher")
case("percentile", A, 40.0, axis=0, method="midpoint")
case("percentile", A, 40.0, axis=0, method="nearest")
case("median", T3, axis=1, keepdims=True)

# ----- shape -----
case("reshape", A, (2, 6))
case("reshape", A, (-1,))
case("ravel", A)
case("transpose", T3)
case("transpose", T3, (1, 0, 2))
case("expand_dims", A, 1)
case("expand_dims", A, (0, 3))
case("squeeze", A[:, :1])
case("squeeze", A[None, :, :1], axis=0)
case("moveaxis", T3, 0, -1)
case("moveaxis", T3, (0, 1), (2, 0))
case("swapaxes", T3, 0, 2)
case("broadcast_to", V, (2, 5))
case("concatenate", [A, B], axis=1)
case("concatenate", [I, A])
case("stack", [A, B], axis=1)
case("hstack", [A, B])
case("vstack", [V, V])
case("dstack", [A, B])
case("append", A, B, axis=0)
case("split", A, 2, axis=1)
case("split", A, [1, 2])
case("array_split", V, 3)
case("hsplit", A, 2)
case("vsplit", A, [1])
case("dsplit", T3, 2)
case("tile", A, 2)
case("tile", V, (2, 1))
case("repeat", A, 2, axis=0)
case("repeat", A, 3)
case("flip", A)
case("flip", T3, axis=(0, 2))
case("fliplr", A)
case("flipud", A)
case("roll", A, 2)
case("roll", A, -1, axis=1)
case("rot90", A)
case("rot90", A, k=3)
case("pad", A, ((1, 0), (2, 1)))
case("pad", A, 1, constant_values=2.0)
case("pad", A, ((1, 2), (0, 1)), mode="reflect")
case("pad", A, ((1, 2), (0, 1)), mode="symmetric")
case("pad", A, ((1, 2), (0, 1)), mode="edge")
case("pad", A, ((1, 2), (0, 1)), mode="wrap")
case("diag", V)
case("diag", V, k=-1)
case("diag", A, k=1)
case("diagflat", A[:2, :2])
case("diagonal", A)
case("diagonal", T3, offset=1, axis1=1, axis2=2)
case("trace", A)
case("trace", T3, offset=-1, axis1=2, axis2=1)
case("tril", A)
case("triu", A, k=1)
case("tril", T3, k=-1)
case("isreal", A)
case("conjugate", A)
case("diff", A)
case("diff", A, n=2, axis=0)

# ----- indexing and sorting -----
case("take", A, np.array([2, 0, 2]), axis=1)
case("take", A, np.array([[0, 5], [11, 3]]))
case("take_along_axis", A, np.array([[0, 1, 1, 2], [2, 0, 2, 2], [1, 1, 0, 0]]), axis=0)
case("take_along_axis", A, np.argsort(A, axis=1), axis=1)
case("argsort", A)
case("argsort", A, axis=0)
case("sort", A)
case("sort", A, axis=0)
case("searchsorted", np.sort(V), A[0])
case("digitize", A, np.array([-1.0, 0.0, 1.0], np.float32))
case("bincount", np.array([0, 1, 1, 4], np.int32))
case("bincount", np.array([0, 1, 1, 4], np.int32), weights=V[:4], minlength=6)
case("isin", I, np.array([0, 1, 2], np.int32))
case("nonzero", I)
case("unravel_index", np.array([1, 5, 7], np.int32), (3, 4))
case("where", MASK, A, B)
case("where", MASK, A, 0.0)
case("where", MASK)
case("select", [A > 0.5, A < -0.5], [A, B], default=1.0)
case("top_k", A, 2)
case("in_top_k", LABELS, PROBS, 2)
case("slice", A, (1, 1), (2, 2))
case("slice_update", A, (1, 2), np.ones((2, 2), np.float32))
case("unstack", A)
case("unstack", T3, axis=2)
case("get_item", A, (slice(1, None), 2))

# ----- linear algebra -----
case("matmul", A, M)
case("matmul", T3, M)
case("matmul", V[:4], M)
case("dot", A, M)
case("dot", V, V)
case("dot", T3, np.ones((2, 4, 2), np.float32))
case("tensordot", A, M, axes=1)
case("tensordot", T3, A, axes=([1, 2], [0, 1]))
case("tensordot", A, B, axes=2)
case("tensordot", T3, np.ones((3, 4, 5), np.float32), axes=([1, 2], [0, 1]))
case("einsum", "ij,jk->ik", A, M)
case("einsum", "bij,bkj->bik", T3, T3)
case("einsum", "...j,jk", T3, M)
case("einsum", "ij->", A)
case("einsum", "ij,ij->i", A, B)
case("outer", V, V[:3])
case("inner", A, B)
case("vdot", A, B)
case("kron", A[:2, :2], M[:2])
case("cross", normal(4, 3), normal(4, 3))
case("trapezoid", A)
case("trapezoid", A, x=V[:4] ** 2, axis=1)
case("vander", V[:3])
case("norm", A)
case("norm", A, ord=1)
case("norm", A, ord=np.inf)
case("norm", A, ord="fro")
case("norm", A, axis=1)
case("norm", A, ord=1, axis=0, keepdims=True)
case("norm", A, ord=3, axis=1)
case("norm", A, ord=-np.inf, axis=1)
case("norm", T3, axis=(1, 2), ord=-1)
case("inv", SQ)
case("det", SQ)
case("logdet", SQ @ SQ.T)
case("solve", SQ, A[:, :2])
case("solve_triangular", SQ, A[:, :2], lower=True)
case("cholesky", SQ @ SQ.T)

# ----- nn -----
for activation in ("relu", "relu6", "sigmoid", "sparse_sigmoid", "softplus", "softsign",
                   "sparse_plus", "silu", "swish", "log_sigmoid", "leaky_relu",
                   "hard_sigmoid", "hard_silu", "hard_swish", "elu", "selu", "celu", "gelu",
                   "tanh_shrink", "hard_tanh", "hard_shrink", "soft_shrink", "squareplus",
                   "softmax", "log_softmax", "glu"):
    case(activation, A * 3)
case("gelu", A, approximate=False)
case("leaky_relu", A, negative_slope=0.3)
case("elu", A, alpha=0.5)
case("threshold", A, 0.1, -1.0)
case("softmax", T3, axis=0)
case("softmax", T3, axis=(1, 2))
case("log_softmax", T3, axis=1)
case("one_hot", LABELS, 3)
case("one_hot", np.array([[0, 3], [1, -1]], np.int32), 4, axis=0)
case("multi_hot", np.array([[0, 2], [1, 1]], np.int32), 3)
case("moments", T3, axes=[0, 1])
case("moments", A, axes=[1], keepdims=True)
case("batch_normalization", A, V[:4], P[0], axis=-1, offset=B[0], scale=B[1])
case("normalize", A)
case("normalize", A, axis=0, order=1)
case("layer_normalization", A, gamma=B[0], beta=B[1])
case("rms_normalization", A, scale=B[0])
case("psnr", P, P + 0.1, 2.0)
case("categorical_crossentropy", ONEHOT, PROBS)
case("categorical_crossentropy", ONEHOT, normal(4, 3), from_logits=True)
case("sparse_categorical_crossentropy", LABELS, PROBS)
case("sparse_categorical_crossentropy", LABELS, normal(4, 3), from_logits=True)
case("binary_crossentropy", (A > 0).astype(np.float32), 1 / (1 + np.exp(-B)))
case("binary_crossentropy", (A > 0).astype(np.float32), B, from_logits=True)
case("conv", IMG, normal(3, 2, 3, 4))
case("conv", IMG, normal(3, 3, 3, 2), strides=2, padding="same")
case("conv", IMG, normal(2, 2, 3, 2), dilation_rate=2)
case("conv", SEQ, normal(3, 3, 4), padding="same")
case("conv", np.moveaxis(IMG, -1, 1), normal(3, 3, 3, 2), data_format="channels_first")
case("conv_transpose", IMG, normal(3, 3, 4, 3), strides=2, padding="same")
case("conv_transpose", SEQ, normal(3, 2, 3), strides=2)
case("depthwise_conv", IMG, normal(3, 3, 3, 2), padding="same")
case("separable_conv", IMG, normal(3, 3, 3, 2), normal(1, 1, 6, 4), strides=2)
case("max_pool", IMG, 2, strides=2)  # Keras 3.15 on JAX fails with strides=None
case("max_pool", IMG, (3, 2), strides=(1, 2), padding="same")
case("max_pool", SEQ, 2, strides=2)
case("average_pool", IMG, (2, 2), strides=(2, 2))
case("average_pool", IMG, 3, strides=2, padding="same")
case("average_pool", SEQ, 3, strides=1, padding="same")
case("depth_to_space", normal(1, 2, 3, 8), 2)
case("space_to_depth", normal(1, 4, 6, 2), 2)
case("dot_product_attention", normal(2, 4, 2, 3), normal(2, 5, 2, 3), normal(2, 5, 2, 3))
case("dot_product_attention", normal(2, 4, 2, 3), normal(2, 4, 2, 3), normal(2, 4, 2, 3),
     is_causal=True)

# ----- math -----
case("segment_sum", A, np.array([0, 2, 0], np.int32), num_segments=3)
case("segment_max", A, np.array([1, 1, 0], np.int32), num_segments=2)
case("extract_sequences", V, 2, 1)
case("extract_sequences", A, 3, 1)

# ----- more numpy, math and linalg -----
NANS = np.where(MASK, np.nan, A).astype(np.float32)
NANS[2] = A[2]  # one row without NaN
for nan_reduce in ("nanmedian", "nanprod", "nanvar", "nanstd"):
    case(nan_reduce, NANS, axis=1)
case("nanquantile", NANS, 0.3, axis=1)
case("nanpercentile", NANS, 75.0, axis=0, keepdims=True)
case("nancumsum", NANS, axis=1)
case("nancumprod", NANS, axis=0)
case("nanargmax", NANS, axis=1)
case("nanargmin", NANS, axis=0)
case("cdist", A, B[:2])
case("cdist", T3, T3[:, :2])
case("correlate", V, V[:3])
case("correlate", V[:2], V, mode="same")
case("correlate", V, V[:3], mode="full")
case("corrcoef", A)
case("histogram", A[0], bins=4)
case("histogram", V, bins=3, range=(-1.0, 1.0))
case("unique", np.array([3, 1, 3, 2, 1], np.int32), return_index=True, return_inverse=True,
     return_counts=True)
case("unique", np.array([3, 1, 3], np.int32), size=4, fill_value=-1)
case("gcd", IP, np.int32(6))
case("lcm", IP, np.int32(4))
case("ldexp", A, np.array([1, 2, 0, -1], np.int32))
case("nextafter", A, np.float32(0.0))
case("angle", A)
case("i0", A)
for window in ("bartlett", "blackman", "hamming", "hanning"):
    case(window, 5)
case("kaiser", 5, 2.0)
case("segment_prod", A, np.array([0, 1, 0], np.int32), num_segments=2)
case("slogdet", SQ)
case("pinv", A)
case("matrix_rank", A)
case("cholesky_inverse", np.linalg.cholesky(SQ @ SQ.T).astype(np.float32))
case("scatter", np.array([[0, 1], [0, 1], [2, 3]], np.int32), V[:3], (3, 4))
case("scatter", np.array([[1], [0]], np.int32), A[:2], (2, 4))
case("scatter_update", A, np.array([[0, 1], [2, 3]], np.int32), V[:2])
case("scatter_update", A, np.array([[0, 1], [2, 3], [0, 1]], np.int32), V[:3], reduction="add")
case("scatter_update", A, np.array([[1]], np.int32), V[None, :4])

# ----- Fourier transforms -----
SIGNAL = normal(2, 16)
case("fft", (A, B))
case("fft2", (T3, T3 * 2))
case("ifft2", (T3, T3 * 2))
case("rfft", V)
case("rfft", A, fft_length=6)
case("rfft", A, fft_length=3)
case("irfft", (A, B))
case("irfft", (A, B), fft_length=7)
case("irfft", (A, B), fft_length=3)
case("stft", SIGNAL, 6, 3, 8)
case("stft", SIGNAL, 5, 2, 5, window="hamming", center=False)
case("stft", SIGNAL, 4, 2, 6, window=None)
STFT = tuple(np.asarray(part) for part in (normal(2, 5, 5), normal(2, 5, 5)))
case("istft", STFT, 8, 4, 8)
case("istft", STFT, 6, 2, 8, length=9, window="hamming")
case("istft", STFT, 8, 2, 8, center=False)
case("istft", STFT, 8, 2, 8, window=None)

# ----- patches, adaptive pooling, rearrange, vectorize -----
CHW = normal(2, 3, 5, 6)
case("unfold", CHW, 2)
case("unfold", CHW, (3, 2), dilation=(1, 2), padding=1, stride=2)
case("fold", normal(2, 12, 20), (5, 6), 2)
case("fold", normal(1, 6, 9), (5, 6), (3, 2), dilation=(1, 2), padding=1, stride=2)
case("adaptive_average_pool", IMG, (2, 4))
case("adaptive_average_pool", IMG, 3)
case("adaptive_max_pool", IMG, (4, 4))
case("adaptive_max_pool", np.moveaxis(IMG, -1, 1), 2, data_format="channels_first")
case("rearrange", IMG, "b h w c -> b c h w")
case("rearrange", T3, "b (h p) w -> (b h) (w p)", p=3)
case("rearrange", normal(2, 4, 6, 3), "b (h p1) (w p2) c -> b h w (p1 p2 c)", p1=2, p2=3)

# ----- CTC -----
CTC_LOGITS = normal(3, 7, 5)
CTC_LABELS = np.array([[1, 2, 2, 0], [3, 3, 0, 0], [4, 1, 2, 3]], np.int32)
case("ctc_loss", CTC_LABELS, CTC_LOGITS, np.array([3, 2, 4], np.int32),
     np.array([7, 5, 6], np.int32))
case("ctc_loss", np.array([[1, 2, 0], [3, 3, 1], [0, 1, 2]], np.int32), CTC_LOGITS,
     np.array([2, 3, 1], np.int32), np.array([7, 7, 4], np.int32), mask_index=4)
case("ctc_decode", CTC_LOGITS, np.array([7, 5, 3], np.int32))
case("ctc_decode", CTC_LOGITS, np.array([7, 5, 3], np.int32), merge_repeated=False,
     mask_index=2)

# ----- image -----
PHOTO = uniform(0, 1, 2, 5, 7, 3)
for method in ("bilinear", "nearest", "bicubic", "lanczos3", "lanczos5"):
    case("image.resize", PHOTO, (8, 4), interpolation=method)
case("image.resize", PHOTO, (3, 3), antialias=True)
case("image.resize", PHOTO, (3, 3), interpolation="bicubic", antialias=True)
case("image.resize", PHOTO[0], (4, 6), crop_to_aspect_ratio=True)
case("image.resize", PHOTO, (6, 4), pad_to_aspect_ratio=True, fill_value=0.5)
case("image.resize", np.moveaxis(PHOTO, -1, 1), (4, 9), data_format="channels_first")
case("image.pad_images", PHOTO, 1, 2, target_height=8, target_width=10)
case("image.pad_images", PHOTO[0], bottom_padding=2, right_padding=1, target_height=9,
     target_width=8)
case("image.crop_images", PHOTO, 1, 2, target_height=3, target_width=4)
case("image.crop_images", PHOTO[0], bottom_cropping=1, right_cropping=2, target_height=3,
     target_width=3)
case("image.extract_patches", PHOTO, 2)
case("image.extract_patches", PHOTO[0], (3, 2), strides=(1, 2), padding="same")
case("image.rgb_to_grayscale", PHOTO)
PRIMARIES = np.array([[[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [0.5, 0.5, 0.5], [0, 0, 0]]],
                     np.float32)
case("image.rgb_to_hsv", PHOTO)
case("image.rgb_to_hsv", PRIMARIES)
case("image.hsv_to_rgb", PHOTO)
case("image.hsv_to_rgb", np.moveaxis(PHOTO, -1, 1) * 1.5, data_format="channels_first")
# Keras 3.15 on JAX blurs over the wrong axes unless data_format is given explicitly.
case("image.gaussian_blur", PHOTO, data_format="channels_last")
case("image.gaussian_blur", PHOTO[0], kernel_size=(5, 3), sigma=(2.0, 0.5),
     data_format="channels_last")
case("image.rgb_to_grayscale", np.moveaxis(PHOTO, -1, 1), data_format="channels_first")

# ----- dtype promotion corners -----
case("floor_divide", A, 2)
case("clip", A, 0, 3)
case("clip", I, 0.5, 1.5)
case("add", 1, 2.5)
case("add", MASK, 1)
case("multiply", MASK, B > 0)
case("floor", I)
case("ceil", I)
case("trunc", I)
case("relu", I)
case("hard_tanh", I)
case("fabs", I)
case("mean", MASK)
case("var", I)
case("where", MASK, np.int32(1), 0.5)
case("maximum", I, 0.5)
case("logsumexp", np.array([[-np.inf, -np.inf], [0.0, -np.inf]], np.float32), axis=1)
case("one_hot", np.array([1.0, 2.0], np.float32), 3)
case("cast", np.array([-1.5, 300.2], np.float32), "uint8")
case("top_k", np.array([[3, 1, 3, 2]], np.int32), 2)

# ----- core -----
case("cast", A, "int32")
case("cast", I, "float32")
case("cast", A, "float16")
case("saturate_cast", A * 200, "uint8")
case("convert_to_tensor", [1, 2])
case("convert_to_tensor", [1.0, 2.0])
case("convert_to_tensor", 3)
case("shape", T3)
case("ndim", T3)
case("size", T3)
case("stop_gradient", A)
