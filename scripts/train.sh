#!/usr/bin/env bash
# Command 1 of the README: install numkeras with its plot extra and the Fashion-MNIST data,
# then train the lecture's model (extra arguments go to `numkeras train`).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh plot
exec .venv/bin/numkeras train "$@"
