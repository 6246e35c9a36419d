"""The classic tf.keras progress bar (``1875/1875 [=====...] - 2s 1ms/step - loss: 0.4977``).

verbose=1 draws the bar, whose text is the same from TF 2.2 to tf-keras 2.21; verbose=2 prints
one line per bar in the tf.keras 2.7+ form
(``1875/1875 - 2s - loss: 0.4977 - accuracy: 0.8254 - 2s/epoch - 1ms/step``), the one TensorFlow's
current tutorials show, for fit, evaluate and predict alike.

On a terminal (or in Jupyter) the bar redraws itself in place with backspaces and ``\\r``, at
most every ``interval`` seconds. When output goes to a file or pipe it prints only the final
line of each bar, so logs stay readable.

>>> import io
>>> out = io.StringIO()
>>> bar = Progbar(4, stream=out, dynamic=False)
>>> for step in range(1, 5):
...     bar.update(step, [("loss", 0.5)])
>>> out.getvalue().startswith("4/4 [==============================] - ")
True
"""

from __future__ import annotations

import sys
import time


def is_dynamic(stream) -> bool:
    """Whether ``stream`` can redraw a line in place (a TTY or a Jupyter kernel)."""
    return bool(getattr(stream, "isatty", lambda: False)()) or "ipykernel" in sys.modules


def format_value(value: float, *, signed: bool = True) -> str:
    """Keras's number format: 4 decimals, or scientific when the value is tiny."""
    magnitude = abs(value) if signed else value
    return f" {value:.4f}" if magnitude > 1e-3 else f" {value:.4e}"


def format_step_time(seconds: float, unit: str = "step") -> str:
    if seconds >= 1 or seconds == 0:
        return f" {seconds:.0f}s/{unit}"
    if seconds >= 1e-3:
        return f" {seconds * 1e3:.0f}ms/{unit}"
    return f" {seconds * 1e6:.0f}us/{unit}"


def format_eta(seconds: float) -> str:
    if seconds > 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"
    if seconds > 60:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{int(seconds)}s"


class Progbar:
    """A progress bar for ``target`` steps.

    Args:
        target: total number of steps, or None if unknown.
        width: width of the bar in characters (30).
        verbose: 1 for the bar, 2 for one line at the end, 0 for silence.
        interval: minimum seconds between redraws.
        unit_name: printed after the time per unit (``ms/step``).
        stream: where to write (default ``sys.stdout`` at the time of each write).
        dynamic: force in-place redrawing on or off (default: detect from the stream).
    """

    def __init__(self, target, width: int = 30, verbose: int = 1, interval: float = 0.05,
                 unit_name: str = "step", stream=None, dynamic: bool | None = None):
        self.target, self.width, self.verbose = target, width, verbose
        self.interval, self.unit_name = interval, unit_name
        self._stream = stream
        self._dynamic = dynamic
        self._start = time.perf_counter()
        self._time_after_first_step = None
        self._last_update = 0.0
        self._total_width = 0
        self._values: dict[str, float] = {}

    @property
    def stream(self):
        return self._stream or sys.stdout

    def update(self, current: int, values=None, finalize: bool | None = None) -> None:
        """Show progress at step ``current`` with ``values``: ``(name, value)`` pairs to print."""
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        for name, value in values or []:
            self._values[name] = float(value)
        now = time.perf_counter()
        if current == 1 and self._time_after_first_step is None:
            self._time_after_first_step = now
        if self.verbose == 1:
            self._update_bar(current, now, finalize)
        elif self.verbose == 2 and finalize:
            self._write(self._summary_line(current, now) + "\n")

    def _summary_line(self, current: int, now: float) -> str:
        """verbose=2's line, tf.keras 2.7+: ``313/313 - 0s - loss: 0.35 - 496ms/epoch - 2ms/step``.

        The time per step is the whole bar's time over its steps (the first one included), as
        tf.keras 2.7+ does for this line; TF 2.2-2.6 stopped after the metrics.
        """
        elapsed = now - self._start
        line = self._counter(current) + f" - {elapsed:.0f}s" + self._metrics(signed=False)
        if self.target is None:  # tf.keras has no per-epoch times for an unknown step count
            return line
        per_step = elapsed / current if current else 0.0
        return (line + " -" + format_step_time(elapsed, "epoch")
                + " -" + format_step_time(per_step, self.unit_name))

    def _update_bar(self, current: int, now: float, finalize: bool) -> None:
        if now - self._last_update < self.interval and not finalize:
            return
        self._last_update = now
        dynamic = is_dynamic(self.stream) if self._dynamic is None else self._dynamic
        if not dynamic and not finalize:
            return  # a log file gets the final line only
        bar = self._bar(current)
        if self.target is None or finalize:
            info = f" - {now - self._start:.0f}s" + format_step_time(
                self._step_time(current, now), self.unit_name)
        else:
            info = " - ETA: " + format_eta(self._step_time(current, now) * (self.target - current))
        line = bar + info + self._metrics()
        previous = self._total_width
        self._total_width = len(line)
        prefix = "\b" * previous + "\r" if dynamic else ""
        padding = " " * (previous - len(line)) if dynamic and previous > len(line) else ""
        self._write(prefix + line + padding + ("\n" if finalize else ""))

    def _counter(self, current: int) -> str:
        if self.target is None:
            return f"{current:7d}/Unknown"
        digits = len(str(int(self.target)))
        return f"{current:{digits}d}/{self.target}"

    def _bar(self, current: int) -> str:
        if self.target is None:
            return self._counter(current)
        filled = int(self.width * current / self.target) if self.target else self.width
        body = ""
        if filled > 0:
            body = "=" * (filled - 1) + (">" if current < self.target else "=")
        return self._counter(current) + " [" + body + "." * (self.width - filled) + "]"

    def _step_time(self, current: int, now: float) -> float:
        if current > 1 and self._time_after_first_step is not None:
            return (now - self._time_after_first_step) / (current - 1)
        return (now - self._start) / current if current else 0.0

    def _metrics(self, signed: bool = True) -> str:
        return "".join(f" - {name}:" + format_value(value, signed=signed)
                       for name, value in self._values.items())

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()
