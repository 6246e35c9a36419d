"""``numkeras activations``: the lecture's activation functions and their derivatives, in one PNG.

Each panel draws ``f(x)`` and ``f'(x)`` on [-5, 5]. The derivatives are not written by hand:
they come from numkeras's own backprop (``backward()`` through the same ops that training
uses), so the picture also shows what backprop multiplies by at each layer. The command also
prints ``dir(keras.activations)``, the names Keras 3 has and numkeras mirrors.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import numpy as np

import numkeras as keras
from numkeras.backprop import Tensor, ops
from numkeras.utils import plotting

DEFAULT_OUTPUT = "activations.png"
X_RANGE = (-5.0, 5.0)
POINTS = 1001  # odd, so x = 0 is one of the points

# (name in keras.activations, title of its panel), in the lecture's order.
LECTURE = [
    ("sigmoid", "Sigmoid"), ("tanh", "tanh"), ("relu", "ReLU"),
    ("leaky_relu", "Leaky ReLU (slope 0.2)"), ("elu", "ELU"), ("selu", "SELU"),
    ("swish", "Swish (SiLU)"), ("softplus", "Softplus"), ("hard_sigmoid", "Hard sigmoid"),
]
# Maxout of one unit over three linear pieces: max(-0.5x - 1, 0.3x, 1.2x - 1.5), breaking
# at x = -1.25 and x = 5/3. Maxout learns the pieces; these are one example of its shape.
MAXOUT_KERNEL = np.array([[-0.5, 0.3, 1.2]], dtype=np.float32)
MAXOUT_BIAS = np.array([-1.0, 0.0, -1.5], dtype=np.float32)
MAXOUT_TITLE = "Maxout (3 linear pieces)"


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``activations`` subcommand to the ``numkeras`` parser."""
    parser = subparsers.add_parser(
        "activations", help="plot the lecture's activation functions and their derivatives",
        description="Plot sigmoid, tanh, ReLU, Leaky ReLU, ELU, SELU, swish, softplus, "
                    "hard_sigmoid and Maxout with their derivatives (computed by numkeras's "
                    "backprop) to one PNG, and print dir(keras.activations).")
    parser.add_argument("--output", type=_png_path, default=pathlib.Path(DEFAULT_OUTPUT),
                        metavar="PATH",
                        help=f"the PNG to write, or a directory to write {DEFAULT_OUTPUT} in "
                             f"(default ./{DEFAULT_OUTPUT})")
    parser.set_defaults(run=run)
    return parser


def _png_path(text: str) -> pathlib.Path:
    path = pathlib.Path(text).expanduser()
    if path.is_dir() or text.endswith(("/", "\\")):
        return path / DEFAULT_OUTPUT
    if path.suffix.lower() != ".png":
        raise argparse.ArgumentTypeError(f"expected a .png file or a directory, got {text!r}")
    return path


def run(args) -> int:
    """Print ``dir(keras.activations)`` and write the figure; returns the exit code."""
    print("dir(keras.activations):")
    print(dir(keras.activations))
    try:
        figure = activations_figure()
    except ImportError:
        print(f"numkeras activations: error: the figure needs matplotlib, which is not "
              f"installed. Install it with: {plotting.INSTALL_HINT}", file=sys.stderr)
        return 1
    try:
        plotting.save_png(figure, str(args.output))
    except OSError as error:
        print(f"numkeras activations: error: cannot write {args.output}: {error}",
              file=sys.stderr)
        return 1
    print(f"Wrote {len(LECTURE) + 1} activations and their derivatives to {args.output}")
    return 0


def with_derivative(function, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(f(x), f'(x))`` for an elementwise ``function`` of Tensors, f' by backprop.

    The sum's gradient is the elementwise derivative, since ``d sum(f(x)) / dx_i = f'(x_i)``.

    >>> values, slopes = with_derivative(keras.activations.relu, np.array([-1.0, 2.0]))
    >>> values.tolist(), slopes.tolist()
    ([0.0, 2.0], [0.0, 1.0])
    """
    leaf = Tensor(np.asarray(x), requires_grad=True)
    out = function(leaf)
    ops.sum(out).backward()
    return np.asarray(out.data), np.asarray(leaf.grad)


def maxout_function():
    """``x -> Maxout(1)(Dense(3)(x))`` with the fixed pieces above, on a vector ``x``."""
    dense = keras.layers.Dense(3, name="maxout_pieces")
    dense.build_from_shape((None, 1))
    dense.set_weights([MAXOUT_KERNEL, MAXOUT_BIAS])
    maxout = keras.layers.Maxout(num_units=1)

    def maxout_of(x):
        column = ops.reshape(x, shape=(-1, 1))  # (N,) -> (N, 1): one feature per sample
        return ops.reshape(maxout(dense(column)), shape=(-1,))

    return maxout_of


def activations_figure():
    """Ten panels: each activation of the lecture with its derivative."""
    figure = plotting._new_figure(panels=5)
    figure.clear()
    figure.set_size_inches(16, 6.8)
    panels = figure.subplots(2, 5).ravel()
    x = np.linspace(*X_RANGE, POINTS, dtype=np.float32)
    functions = [(keras.activations.get(name), title) for name, title in LECTURE]
    functions.append((maxout_function(), MAXOUT_TITLE))
    for axes, (function, title) in zip(panels, functions):
        values, slopes = with_derivative(function, x)
        axes.plot(x, values, label="f(x)")
        axes.plot(x, slopes, linestyle="--", label="f'(x) by backprop")
        axes.axhline(0, color="grey", linewidth=0.6)
        axes.axvline(0, color="grey", linewidth=0.6)
        axes.set_title(title)
        axes.set_xlabel("x")
        axes.set_ylabel("f(x), f'(x)")
        axes.grid(True, alpha=0.3)
        axes.legend(fontsize="small", loc="upper left")
    figure.suptitle("Activation functions of the lecture and their derivatives")
    return figure
