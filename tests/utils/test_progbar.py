"""The classic progress bar's text (keras-compat.md section 2.1)."""

import io
import re

from numkeras.utils import progbar
from numkeras.utils.progbar import Progbar, format_eta, format_step_time, format_value


def run_bar(steps, dynamic, values=(("loss", 0.49771), ("accuracy", 0.82541)), verbose=1):
    out = io.StringIO()
    bar = Progbar(steps, stream=out, dynamic=dynamic, interval=0.0, verbose=verbose)
    for step in range(1, steps + 1):
        bar.update(step, list(values), finalize=False)
    bar.update(steps, list(values), finalize=True)
    return out.getvalue()


def test_final_line_format():
    text = run_bar(1875, dynamic=False)
    assert re.fullmatch(r"1875/1875 \[={30}\] - \d+s \d+(us|ms)/step - loss: 0\.4977 - "
                        r"accuracy: 0\.8254\n", text), text


def test_log_output_has_no_control_characters():
    text = run_bar(10, dynamic=False)
    assert "\b" not in text and "\r" not in text and text.count("\n") == 1


def test_dynamic_output_redraws_in_place():
    text = run_bar(3, dynamic=True)
    frames = text.split("\r")
    assert frames[0] == ""  # the first frame starts with "\r" (no previous width)
    assert frames[1].startswith("1/3 [=========>....................] - ETA: ")
    assert frames[2].startswith("2/3 [===================>..........] - ETA: ")
    assert frames[-1].startswith("3/3 [==============================] - ")
    assert text.endswith("\n") and "\b" in text


def test_bar_with_zero_progress_is_all_dots():
    out = io.StringIO()
    Progbar(100, stream=out, dynamic=True).update(1, finalize=False)
    assert out.getvalue().startswith("\r  1/100 [..............................] - ETA:")


class FakeClock:
    """Stands in for the ``time`` module in progbar: each reading advances by ``tick`` s."""

    def __init__(self, tick):
        self.now, self.tick = 0.0, tick

    def perf_counter(self):
        self.now += self.tick
        return self.now - self.tick


def test_verbose_2_prints_one_line_in_the_tf_keras_2_7_form(monkeypatch):
    # tf.keras 2.7+ (tf_keras/src/utils/generic_utils.py, Progbar.update, verbose == 2):
    # count, elapsed, metrics, then the bar's time as "/epoch" and its mean per step.
    monkeypatch.setattr(progbar, "time", FakeClock(0.0124))  # 1 + 8 + 1 readings: 0.1116 s
    for dynamic in (True, False):  # the same single line on a terminal and in a log
        text = run_bar(8, dynamic=dynamic, verbose=2)
        # 0.1116 s for 8 steps: 14 ms per step, the first step included
        assert text == "8/8 - 0s - loss: 0.4977 - accuracy: 0.8254 - 112ms/epoch - 14ms/step\n"


def test_verbose_2_exact_times_and_tiny_values(monkeypatch):
    monkeypatch.setattr(progbar, "time", FakeClock(0.496))
    out = io.StringIO()
    bar = Progbar(313, stream=out, verbose=2)  # reads the clock at 0
    bar.update(313, [("loss", 0.35), ("accuracy", 0.875), ("val_loss", 0.0001)], finalize=True)
    assert out.getvalue() == ("313/313 - 0s - loss: 0.3500 - accuracy: 0.8750 - val_loss: "
                              "1.0000e-04 - 496ms/epoch - 2ms/step\n")
    out = io.StringIO()
    Progbar(2, stream=out, verbose=2).update(2, [("loss", -0.5)], finalize=True)
    # verbose=2 compares the value itself (not its magnitude) with 1e-3, as tf.keras does
    assert out.getvalue() == "2/2 - 0s - loss: -5.0000e-01 - 496ms/epoch - 248ms/step\n"


def test_verbose_2_prints_nothing_before_the_end():
    out = io.StringIO()
    bar = Progbar(3, stream=out, verbose=2, interval=0.0)
    bar.update(1, [("loss", 1.0)], finalize=False)
    bar.update(3, [("loss", 1.0)], finalize=False)
    assert out.getvalue() == ""


def test_verbose_2_with_an_unknown_target_has_no_epoch_times():
    out = io.StringIO()
    Progbar(None, stream=out, verbose=2).update(5, [("loss", 2.0)], finalize=True)
    assert re.fullmatch(r"      5/Unknown - \d+s - loss: 2\.0000\n", out.getvalue())


def test_unknown_target():
    out = io.StringIO()
    Progbar(None, stream=out, dynamic=False).update(5, finalize=True)
    assert out.getvalue().startswith("      5/Unknown - ")


def test_number_and_time_formats():
    assert format_value(0.4977) == " 0.4977"
    assert format_value(-0.5) == " -0.5000"
    assert format_value(0.0001) == " 1.0000e-04"
    assert format_step_time(0.0003) == " 300us/step"
    assert format_step_time(0.0012) == " 1ms/step"
    assert format_step_time(2.4) == " 2s/step"
    assert format_step_time(0) == " 0s/step"
    assert format_eta(182) == "3:02" and format_eta(3725) == "1:02:05" and format_eta(1.9) == "1s"
