#!/usr/bin/env bash
# Command 2 of the README: install what the tests need, then run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh test
exec .venv/bin/python -m pytest "$@"
