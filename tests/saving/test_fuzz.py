"""Fuzz the loader over mutated .keras archives: it returns a model or raises SavingError, and
nothing else (no other exception, crash, hang or huge allocation).

Bounded for CI (``max_examples``, a deadline per example, derandomized); set
``NUMKERAS_FUZZ_EXAMPLES=5000`` to search longer.
"""

import datetime
import io
import json
import os
import warnings
import zipfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.saving.helpers import members, rezip, trained_small_model

import numkeras as keras
from numkeras.saving import SavingError, archive_bytes

EXAMPLES = int(os.environ.get("NUMKERAS_FUZZ_EXAMPLES", "120"))
# CI runs the same examples every time; a longer local search draws new ones.
FUZZ = settings(max_examples=EXAMPLES, deadline=datetime.timedelta(seconds=10),
                derandomize="NUMKERAS_FUZZ_EXAMPLES" not in os.environ,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _base():
    from numkeras import config
    from numkeras.utils import naming

    config.set_random_seed(11)
    naming.reset()
    data = archive_bytes(trained_small_model(dropout=0.5))
    return data, members(data)


BASE, FILES = _base()


def check_loads_or_refuses(data: bytes) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # as in normal use (e.g. "skipping optimizer state")
        try:
            model = keras.models.load_model(io.BytesIO(data))
        except SavingError:
            return
    assert model.built or not model.weights


def flip(data: bytes, positions, values) -> bytes:
    mutated = bytearray(data)
    for position, value in zip(positions, values):
        mutated[position % len(mutated)] = value
    return bytes(mutated)


byte_edits = st.tuples(st.lists(st.integers(0, 2 ** 31), min_size=1, max_size=16),
                       st.lists(st.integers(0, 255), min_size=16, max_size=16))


@FUZZ
@given(edits=byte_edits)
def test_flipped_bytes_anywhere_in_the_archive(edits):
    check_loads_or_refuses(flip(BASE, *edits))


@FUZZ
@given(cut=st.integers(0, len(BASE)))
def test_truncated_archive(cut):
    check_loads_or_refuses(BASE[:cut])


@FUZZ
@given(member=st.sampled_from(sorted(FILES)), edits=byte_edits,
       compression=st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
def test_flipped_bytes_inside_a_valid_archive(member, edits, compression):
    """The ZIP stays valid (CRCs recomputed), so the JSON and HDF5 parsers get the damage."""
    check_loads_or_refuses(rezip({**FILES, member: flip(FILES[member], *edits)}, compression))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2 ** 70, 2 ** 70) | st.floats()
    | st.text(max_size=12) | st.sampled_from(["Lambda", "__lambda__", "Dense", "os", "keras",
                                               "float64", "Sequential", "../x"]),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["class_name", "config", "module", "registered_name",
                                       "name", "units", "batch_shape", "layers"]), children,
                      max_size=4),
    max_leaves=12)


@FUZZ
@given(data=st.data())
def test_one_config_value_replaced(data):
    """Walk to a random place in config.json and put a random JSON value there."""
    config = json.loads(FILES["config.json"])
    node = config
    while True:
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        if not keys:
            break
        key = data.draw(st.sampled_from(keys))
        child = node[key]
        if isinstance(child, (dict, list)) and child and data.draw(st.booleans()):
            node = child
            continue
        node[key] = data.draw(json_values)
        break
    check_loads_or_refuses(rezip({**FILES, "config.json": json.dumps(config).encode()}))


@FUZZ
@given(names=st.lists(st.sampled_from(["metadata.json", "config.json", "model.weights.h5",
                                       "../config.json", "/model.weights.h5", "assets/a",
                                       "a\\b", "", "x" * 300]), max_size=5),
       sources=st.lists(st.sampled_from(sorted(FILES)), min_size=5, max_size=5))
def test_members_renamed_dropped_or_duplicated(names, sources):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names
        for name, source in zip(names, sources):
            if name:
                archive.writestr(name, FILES[source])
    check_loads_or_refuses(buffer.getvalue())
