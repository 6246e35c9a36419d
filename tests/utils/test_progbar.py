"""The classic progress bar's text (keras-compat.md section 2.1)."""

import io
import re

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


def test_verbose_2_prints_one_line():
    text = run_bar(8, dynamic=True, verbose=2)
    assert re.fullmatch(r"8/8 - \d+s - loss: 0\.4977 - accuracy: 0\.8254\n", text), text


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
