"""Fuzz the loaders over mutated .keras archives, legacy .h5 models and .weights.h5 files:
each returns a model or raises SavingError, and nothing else (no other exception, crash, hang
or huge allocation).

Every case runs under a bound: resident memory may grow by at most ``MAX_CASE_BYTES`` (Linux,
measured), and a case running longer than ``MAX_CASE_SECONDS`` ends the test run with every
thread's traceback (a hang inside libhdf5 cannot be interrupted otherwise). Bounded for CI
(``max_examples``, a deadline per example, derandomized); set ``NUMKERAS_FUZZ_EXAMPLES=5000``
to search longer.
"""

import datetime
import io
import json
import os
import warnings
import zipfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.saving.helpers import members, rezip, small_model, trained_small_model
from tests.saving.limits import bounded

import numkeras as keras
from numkeras.saving import SavingError, archive_bytes, legacy_h5
from numkeras.saving import weights as weights_module

EXAMPLES = int(os.environ.get("NUMKERAS_FUZZ_EXAMPLES", "120"))
MAX_CASE_BYTES = 192 * 2 ** 20  # the files are ~20 kB; the bombs found took 1.6 and 3.9 GB
MAX_CASE_SECONDS = 60
# CI runs the same examples every time; a longer local search draws new ones.
FUZZ = settings(max_examples=EXAMPLES, deadline=datetime.timedelta(seconds=10),
                derandomize="NUMKERAS_FUZZ_EXAMPLES" not in os.environ,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _base():
    from numkeras import config
    from numkeras.utils import naming

    config.set_random_seed(11)
    naming.reset()
    model = trained_small_model(dropout=0.5)
    data = archive_bytes(model)
    legacy, weights = io.BytesIO(), io.BytesIO()
    legacy_h5.write_model(model, legacy)
    weights_module.write_weights(model, weights)
    return data, members(data), legacy.getvalue(), weights.getvalue()


BASE, FILES, BASE_H5, BASE_WEIGHTS = _base()


def _load_or_refuse(load) -> None:
    def attempt():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # as in normal use ("skipping optimizer state")
            try:
                model = load()
            except SavingError:
                return
        assert model is None or model.built or not model.weights

    bounded(attempt, max_bytes=MAX_CASE_BYTES, seconds=MAX_CASE_SECONDS)


def check_loads_or_refuses(data: bytes) -> None:
    """A model file (.keras or legacy .h5) loads or is refused, within the bounds."""
    _load_or_refuse(lambda: keras.models.load_model(io.BytesIO(data)))


def check_weights_load_or_refuse(data: bytes) -> None:
    """A weights file (.weights.h5 or legacy .h5) loads into the model or is refused."""
    _load_or_refuse(lambda: small_model(dropout=0.5).load_weights(io.BytesIO(data)))


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


hdf5_files = st.sampled_from(["legacy", "weights"])


def _hdf5(kind: str) -> bytes:
    return BASE_H5 if kind == "legacy" else BASE_WEIGHTS


def _check_hdf5(kind: str, data: bytes) -> None:
    if kind == "legacy":
        check_loads_or_refuses(data)
    check_weights_load_or_refuse(data)


@FUZZ
@given(kind=hdf5_files, edits=byte_edits)
def test_flipped_bytes_anywhere_in_an_hdf5_file(kind, edits):
    """Legacy .h5 models (text attributes, global heaps) and .weights.h5 files."""
    _check_hdf5(kind, flip(_hdf5(kind), *edits))


@FUZZ
@given(kind=hdf5_files, data=st.data())
def test_truncated_hdf5_file(kind, data):
    base = _hdf5(kind)
    _check_hdf5(kind, base[:data.draw(st.integers(0, len(base)))])


@FUZZ
@given(kind=hdf5_files, data=st.data(), value=st.integers(0, 2 ** 32 - 1),
       width=st.sampled_from([1, 2, 4, 8]))
def test_one_field_of_an_hdf5_file_set_to_an_extreme(kind, data, value, width):
    """A length, size, address or count anywhere set to a large or special value: what made
    libhdf5 loop (a heap object of size 0) or allocate gigabytes (a string's length)."""
    base = bytearray(_hdf5(kind))
    position = data.draw(st.integers(0, len(base) - width))
    base[position:position + width] = (value % 256 ** width).to_bytes(width, "little")
    _check_hdf5(kind, bytes(base))


def test_the_hdf5_bases_load():
    check_loads_or_refuses(BASE_H5)
    check_weights_load_or_refuse(BASE_H5)
    check_weights_load_or_refuse(BASE_WEIGHTS)
    model = small_model(dropout=0.5)
    model.load_weights(io.BytesIO(BASE_WEIGHTS))
    keras.models.load_model(io.BytesIO(BASE_H5))
