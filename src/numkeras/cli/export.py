"""``numkeras export RUN_DIR model.onnx``: a trained model as an ONNX file.

The model is found as ``numkeras predict`` finds it (a run directory written by ``numkeras
train``, or a ``.keras`` file) and written with ``model.export(path, format="onnx")``; the
file runs in onnxruntime or any other ONNX runtime, with a dynamic batch axis. Needs the
``onnx`` package (``pip install 'numkeras[onnx]'``).
"""

from __future__ import annotations

import argparse
import pathlib
import sys

from numkeras import saving
from numkeras.cli import predict
from numkeras.saving.onnx_export import DEFAULT_OPSET, ExportError

DESCRIPTION = """\
Write a model trained by `numkeras train` (or any Sequential or functional .keras file) as an
ONNX file, to run it outside Python-with-numkeras (onnxruntime, ONNX.js, C++ ...). Images stay
channels-last, as in training; the batch axis is dynamic."""

EPILOG = """\
examples:
  numkeras export runs/2026-11-29T10-15-00 model.onnx
  numkeras export --opset 18 runs/2026-11-29T10-15-00/model.keras model.onnx
"""


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``export`` subcommand to the ``numkeras`` parser."""
    parser = subparsers.add_parser(
        "export", help="write a trained model as an ONNX file", description=DESCRIPTION,
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", metavar="RUN_DIR",
                        help="a run directory written by `numkeras train`, or a .keras file")
    parser.add_argument("output", metavar="OUTPUT", help="the .onnx file to write")
    parser.add_argument("--opset", type=int, default=DEFAULT_OPSET, metavar="N",
                        help=f"ONNX operator set version (default {DEFAULT_OPSET})")
    parser.set_defaults(run=run)
    return parser


def run(args) -> int:
    """Export ``args.model`` to ``args.output``; 1 with one line of error if it cannot."""
    try:
        model_file = predict._model_file(pathlib.Path(args.model))
        model = _load(model_file)
        model.export(args.output, format="onnx", opset_version=args.opset)
    except (predict.PredictError, ExportError, ImportError, ValueError) as error:
        print(f"numkeras export: error: {error}", file=sys.stderr)
        return 1
    inputs = ", ".join(f"{tensor.shape}" for tensor in model.inputs)
    print(f"Wrote {args.output} (ONNX opset {args.opset}) from {model_file}: input shape "
          f"{inputs}, batch axis dynamic.")
    return 0


def _load(model_file: pathlib.Path):
    try:
        return saving.load_model(model_file)
    except (OSError, ValueError, KeyError) as error:
        raise predict.PredictError(f"{model_file}: cannot read the model ({error}).") from error
