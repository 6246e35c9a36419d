"""Text attributes of legacy .h5 files (issue 15, item 9): libhdf5 loops forever on a global
heap object of size 0 and allocates whatever length a string declares. Every such field of a
real file, damaged in turn, gives a SavingError naming the file, quickly and without the
allocation; genuine files (object headers of versions 1 and 2) still load."""

import doctest
import io
import struct

import h5py
import pytest
from tests.saving.helpers import small_model
from tests.saving.limits import bounded

import numkeras as keras
from numkeras.saving import SavingError, hdf5_heaps, legacy_h5

MIB = 1 << 20


@pytest.fixture(scope="module")
def legacy_file():
    buffer = io.BytesIO()
    legacy_h5.write_model(small_model(dropout=0.5), buffer)
    return buffer.getvalue()


def _refused_quickly(data: bytes, match: str = "") -> None:
    """load_model refuses ``data``; load_weights (which reads fewer attributes) loads or
    refuses it; both within 64 MiB and a minute."""
    def attempt():
        with pytest.raises(SavingError, match=match):
            keras.models.load_model(io.BytesIO(data))
        try:
            small_model(dropout=0.5).load_weights(io.BytesIO(data))
        except SavingError:
            pass
    bounded(attempt, max_bytes=64 * MIB, seconds=60)


def _string_records(data: bytes) -> list[int]:
    """Positions of the 4-byte lengths of every variable-length string stored in attributes:
    each is followed by the address of its heap collection and the object's index."""
    objects = hdf5_heaps.check_global_heaps(data, "x")
    positions = []
    for address, index in objects:
        key = struct.pack("<QI", address, index)
        start = data.find(key)
        while start >= 0:
            positions.append(start - 4)
            start = data.find(key, start + 1)
    return sorted(positions)


@pytest.mark.parametrize("length", [2 ** 31, 2 ** 32 - 1, 10 ** 9])
def test_every_string_length_is_checked_before_libhdf5_allocates_it(legacy_file, length):
    records = _string_records(legacy_file)
    # model_config, keras_version and backend (root and model_weights); names are fixed-size
    assert len(records) >= 5
    refused = []
    for position in records:
        damaged = bytearray(legacy_file)
        damaged[position:position + 4] = length.to_bytes(4, "little")
        # Attributes numkeras never reads (keras_version, backend) may stay damaged.
        bounded(lambda: refused.append(_load_or_refuse(bytes(damaged))), max_bytes=64 * MIB,
                seconds=60)
    assert any("attribute 'model_config'" in message for message in refused)
    assert all("declares" in message for message in refused if message)


def _heap_object_sizes(data: bytes) -> list[int]:
    """Positions of the size fields of every object (free space included) of every global
    heap collection."""
    positions = []
    start = data.find(b"GCOL")
    while start >= 0:
        end, position = start + int.from_bytes(data[start + 8:start + 16], "little"), start + 16
        while position + 16 <= end:
            index = int.from_bytes(data[position:position + 2], "little")
            size = int.from_bytes(data[position + 8:position + 16], "little")
            positions.append(position + 8)
            position += size if index == 0 else 16 + -(-size // 8) * 8
        start = data.find(b"GCOL", start + 1)
    return positions


@pytest.mark.parametrize("size", [0, 8, 2 ** 40])
def test_a_damaged_heap_object_size_cannot_make_libhdf5_loop(legacy_file, size):
    positions = _heap_object_sizes(legacy_file)
    assert len(positions) >= 6  # five strings and the free space
    for position in positions:
        damaged = bytearray(legacy_file)
        damaged[position:position + 8] = size.to_bytes(8, "little")
        try:
            hdf5_heaps.check_global_heaps(bytes(damaged), "x")
        except SavingError:
            _refused_quickly(bytes(damaged), "global heap")
        else:  # a size that still walks: libhdf5 gets a consistent heap
            bounded(lambda: _load_or_refuse(bytes(damaged)), max_bytes=64 * MIB, seconds=60)


def _load_or_refuse(data) -> str:
    """The SavingError's message from load_model and load_weights ('' if both load)."""
    messages = []
    for load in (keras.models.load_model, small_model(dropout=0.5).load_weights):
        try:
            load(io.BytesIO(data))
        except SavingError as error:
            messages.append(str(error))
    return " ".join(messages)


def test_a_collection_larger_than_the_file_is_refused(legacy_file):
    start = legacy_file.find(b"GCOL")
    damaged = bytearray(legacy_file)
    damaged[start + 8:start + 16] = (2 ** 40).to_bytes(8, "little")
    _refused_quickly(bytes(damaged), "declares 1099511627776 bytes")


@pytest.mark.parametrize("libver", ["earliest", "latest"])
def test_object_headers_of_both_versions_are_read(tmp_path, libver):
    """h5py writes version 1 object headers by default and version 2 ('OHDR') with
    libver='latest'; both are parsed, with their continuation blocks."""
    model = small_model()
    source, copy = tmp_path / "m.h5", tmp_path / f"{libver}.h5"
    model.save(source)
    with h5py.File(source, "r") as src, h5py.File(copy, "w", libver=libver) as dst:
        for key, value in src.attrs.items():
            dst.attrs[key] = value
        src.copy(src["model_weights"], dst, "model_weights")
    assert (b"OHDR" in copy.read_bytes()) == (libver == "latest")
    assert keras.models.load_model(copy).count_params() == model.count_params()


def test_attributes_in_dense_storage_are_refused(tmp_path):
    model = small_model()
    source, copy = tmp_path / "m.h5", tmp_path / "dense.h5"
    model.save(source)
    with h5py.File(source, "r") as src, h5py.File(copy, "w", libver="latest") as dst:
        for key, value in src.attrs.items():
            dst.attrs[key] = value
        for extra in range(20):  # past 8 attributes, libver='latest' stores them densely
            dst.attrs[f"extra{extra}"] = "x"
        src.copy(src["model_weights"], dst, "model_weights")
    with pytest.raises(SavingError, match="dense storage"):
        keras.models.load_model(copy)


def test_text_that_is_not_utf8_is_a_saving_error(tmp_path):
    """h5py hands undecodable bytes back as lone surrogates (UnicodeEncodeError seen)."""
    path = tmp_path / "m.h5"
    with h5py.File(path, "w") as store:
        store.attrs.create("model_config", data=b"\xff\xfe{}", dtype=h5py.string_dtype())
    with pytest.raises(SavingError, match=r"m\.h5.*model_config.*not UTF-8"):
        keras.models.load_model(path)


@pytest.mark.parametrize("error", [UnicodeEncodeError("utf-8", "\udcff", 0, 1, "surrogates"),
                                   OverflowError("Python int too large"), KeyError("x"),
                                   MemoryError(), OSError("Unable to synchronously read")])
def test_any_failure_while_reading_is_a_saving_error_naming_the_file(tmp_path, monkeypatch,
                                                                     error):
    """The net under the readers: whatever a damaged file provokes in h5py or zipfile."""
    path = tmp_path / "m.h5"
    small_model().save(path)

    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(legacy_h5, "_load_layer_weights", fail)
    with pytest.raises(SavingError, match=r"m\.h5") as raised:
        keras.models.load_model(path)
    assert raised.value.__cause__ is error
    with pytest.raises(SavingError, match=r"m\.h5"):
        small_model().load_weights(path)


def test_file_system_errors_stay_os_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        keras.models.load_model(tmp_path / "missing.h5")


def test_module_examples():
    assert doctest.testmod(hdf5_heaps).failed == 0
