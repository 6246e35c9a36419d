#!/usr/bin/env bash
# The benchmark suite of issues 4 and 7 in one command: numkeras against every peer that
# installs.
#
# Creates .venv-bench (kept between runs, gitignored), installs numkeras (editable, with its
# 'fast' extra) and the peers of benchmarks/requirements-peers.txt, skipping any peer that fails
# to install, byte-compiles the venv so import times are those of a warm install, then runs
# benchmarks/run.py with the given arguments. Examples:
#   scripts/bench.sh                   # full run; writes docs/benchmarks.md
#   scripts/bench.sh --quick           # one round, fewer epochs: a quick look
#   scripts/bench.sh --systems numkeras,numpy --workloads lecture32
# BENCH_INSTALL=0 skips the installs (the venv must exist); PYTHON picks the interpreter.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
venv=.venv-bench
pip=("$venv/bin/python" -m pip install -q)

if [ "${BENCH_INSTALL:-1}" != 0 ]; then
  if [ ! -x "$venv/bin/python" ]; then
    echo "bench: creating $venv"
    "$python" -m venv "$venv"
  fi
  echo "bench: installing numkeras with its 'fast' extra into $venv"
  # The suite measures numkeras both ways: as installed by default (the worker makes numba
  # unimportable in those runs) and with the extra; without numba it measures the default only.
  "${pip[@]}" -e ".[fast]" || {
    echo "bench: the 'fast' extra (numba) did not install; measuring the default only" >&2
    "${pip[@]}" -e .
  }
  # The lecture's data: Debian's package when apt is usable; load_data() downloads otherwise.
  if ! dpkg -s dataset-fashion-mnist >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ] \
      && command -v apt-get >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1 \
      || echo "bench: could not install dataset-fashion-mnist; load_data() will download" >&2
  fi
  echo "bench: installing the peers (benchmarks/requirements-peers.txt)"
  # All together first, so pip resolves them as one set; if that fails, one by one, so a peer
  # that cannot install here (no wheel for this Python, no disk) costs only its own column.
  if ! "${pip[@]}" -r benchmarks/requirements-peers.txt; then
    grep -v -E '^\s*(#|$)' benchmarks/requirements-peers.txt | while read -r requirement; do
      "${pip[@]}" "$requirement" \
        || echo "bench: skipping peer '$requirement': it did not install" >&2
    done
  fi
fi

# Import times are measured with warm bytecode caches, as on a user's machine; some sandboxes set
# PYTHONDONTWRITEBYTECODE=1, which would make every import recompile its modules.
unset PYTHONDONTWRITEBYTECODE
site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
"$venv/bin/python" -m compileall -q -j 0 "$site" src/numkeras >/dev/null 2>&1 || true

# The report records the command as typed.
BENCH_COMMAND="scripts/bench.sh${*:+ $*}" exec "$venv/bin/python" benchmarks/run.py "$@"
