"""The ``numkeras`` command: ``numkeras train``, ``numkeras predict`` ...

Each subcommand lives in its own module of this package: ``add_parser(subparsers)`` adds its
parser and calls ``parser.set_defaults(run=run)``, where ``run(args) -> int`` does the work;
``main`` dispatches. Invalid options exit with code 2 and a clear message.

No command ends in a traceback: each reports the problems it expects in its own words, and
``main`` turns anything else (a MemoryError from a huge model, a read-only disk, a damaged
file) into one line ``numkeras <command>: error: ...`` and exit code 1.
Set ``NUMKERAS_TRACEBACK=1`` to see the traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

# Subcommand name -> module of this package that implements it.
COMMANDS = {
    "train": "train",
    "predict": "predict",
    "vanishing": "vanishing",
    "activations": "activations",
    "export": "export",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="numkeras",
        description="numkeras: the Keras API on NumPy. Train and inspect the lecture's models.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMANDS.values():
        importlib.import_module(f"numkeras.cli.{module_name}").add_parser(subparsers)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args.run(args) or 0)
    except Exception as error:  # noqa: BLE001 - every failure becomes one line
        if os.environ.get("NUMKERAS_TRACEBACK"):
            raise
        print(f"numkeras {args.command}: error: {describe_error(error)}", file=sys.stderr)
        return 1


def describe_error(error: BaseException) -> str:
    """One line saying what went wrong, for errors no command reports in its own words.

    >>> describe_error(MemoryError())
    'not enough memory (the model or the data is too large for this machine; try smaller \
--hidden sizes or a smaller --batch-size).'
    >>> describe_error(PermissionError(13, "Permission denied", "runs/x/history.csv"))
    "cannot write or read 'runs/x/history.csv': Permission denied."
    """
    if isinstance(error, MemoryError) or "array is too big" in str(error):
        return ("not enough memory (the model or the data is too large for this machine; try "
                "smaller --hidden sizes or a smaller --batch-size).")
    if isinstance(error, OSError) and error.filename is not None:
        return f"cannot write or read '{error.filename}': {error.strerror or error}."
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= 500 else text[:497] + "..."


if __name__ == "__main__":
    sys.exit(main())
