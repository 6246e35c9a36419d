"""The ``numkeras`` command: ``numkeras train``, ``numkeras predict`` ...

Each subcommand lives in its own module of this package: ``add_parser(subparsers)`` adds its
parser and calls ``parser.set_defaults(run=run)``, where ``run(args) -> int`` does the work;
``main`` dispatches. Invalid options exit with code 2 and a clear message.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# Subcommand name -> module of this package that implements it.
COMMANDS = {
    "train": "train",
    "predict": "predict",
    "vanishing": "vanishing",
    "activations": "activations",
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
    return int(args.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
