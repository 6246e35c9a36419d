"""Memory and time bounds for one call: how much the process's resident memory grew at its
peak, and a watchdog that ends the test run (with a traceback) if a call hangs, even inside C
code such as libhdf5, where no Python exception can interrupt it."""

import contextlib
import faulthandler
import pathlib
import sys

_STATUS = pathlib.Path("/proc/self/status")
_CLEAR_REFS = pathlib.Path("/proc/self/clear_refs")


def _high_water_mark() -> int | None:
    """The peak resident memory of this process in bytes (Linux), or None."""
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _reset_high_water_mark() -> bool:
    try:
        _CLEAR_REFS.write_text("5")  # Linux >= 4.0: VmHWM := current resident size
    except OSError:
        return False
    return True


def peak_growth(function) -> int | None:
    """Call ``function()`` and return how far resident memory rose above its level at the
    start (bytes), or None where that cannot be measured. Exceptions propagate."""
    measurable = sys.platform.startswith("linux") and _reset_high_water_mark()
    start = _high_water_mark() if measurable else None
    function()
    if start is None:
        return None
    end = _high_water_mark()
    return None if end is None else end - start


@contextlib.contextmanager
def watchdog(seconds: float):
    """Abort the whole test process with every thread's traceback if the block runs longer
    than ``seconds`` (a hang must fail CI, not stall it)."""
    faulthandler.dump_traceback_later(seconds, exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


def bounded(function, *, max_bytes: int, seconds: float) -> None:
    """Call ``function()`` under a watchdog and assert its peak memory growth."""
    with watchdog(seconds):
        grown = peak_growth(function)
    assert grown is None or grown <= max_bytes, \
        f"the call grew resident memory by {grown / 2 ** 20:.0f} MiB (limit " \
        f"{max_bytes / 2 ** 20:.0f} MiB)"
