"""The IDX reader: every dtype code, gzip and raw, and a clear error for every kind of bad file."""

import gzip

import numpy as np
import pytest
from dataset_helpers import idx_bytes, make_dataset, write_dataset

from numkeras.datasets import IDXFormatError, fashion_mnist, read_idx
from numkeras.datasets.idx import MAGIC_IMAGES, MAGIC_LABELS


def write(tmp_path, data: bytes, name="data-idx-ubyte", compress=False):
    path = tmp_path / (name + (".gz" if compress else ""))
    path.write_bytes(gzip.compress(data, mtime=0) if compress else data)
    return path


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("dtype", ["u1", "i1", "i2", "i4", "f4", "f8"])
def test_every_idx_dtype_round_trips_in_native_byte_order(tmp_path, dtype, compress):
    values = (np.arange(24).reshape(2, 3, 4) * 37 - 300).astype(dtype)
    array = read_idx(write(tmp_path, idx_bytes(values), compress=compress))
    assert array.dtype == np.dtype(dtype) and array.dtype.isnative
    np.testing.assert_array_equal(array, values)


def test_compression_is_detected_from_content_not_name(tmp_path):
    labels = np.array([3, 1, 4], np.uint8)
    path = tmp_path / "labels-without-suffix"
    path.write_bytes(gzip.compress(idx_bytes(labels)))
    np.testing.assert_array_equal(read_idx(path), labels)
    raw = write(tmp_path, idx_bytes(labels), name="raw-named.gz")  # raw bytes, .gz-ish name
    np.testing.assert_array_equal(read_idx(raw), labels)


def test_result_is_writable_and_zero_sized_dimensions_work(tmp_path):
    array = read_idx(write(tmp_path, idx_bytes(np.zeros((2, 28, 28), np.uint8))))
    array[0, 0, 0] = 255  # Keras users modify arrays in place; frombuffer(bytes) would refuse
    empty = read_idx(write(tmp_path, idx_bytes(np.zeros((0, 28, 28), np.uint8)), name="e"))
    assert empty.shape == (0, 28, 28)


def test_magic_number_is_checked_when_given(tmp_path):
    labels = write(tmp_path, idx_bytes(np.zeros(5, np.uint8)), name="train-labels-idx1-ubyte")
    assert read_idx(labels, magic=MAGIC_LABELS).shape == (5,)
    with pytest.raises(IDXFormatError) as error:
        read_idx(labels, magic=MAGIC_IMAGES)
    message = str(error.value)
    assert str(labels) in message
    assert "expected magic number 0x00000803 (unsigned byte, 3 dimensions)" in message
    assert "found 0x00000801 (unsigned byte, 1 dimension)" in message


@pytest.mark.parametrize("header, found", [
    (b"\x12\x34\x08\x01", "found 0x12340801"),  # not IDX at all
    (b"\x00\x00\x0a\x01", "found 0x00000A01"),  # 0x0A is not an IDX dtype code
    (b"\x00\x00\x08\x00", "found 0x00000800"),  # zero dimensions
])
def test_invalid_magic_numbers_are_rejected(tmp_path, header, found):
    path = write(tmp_path, header + b"\x00" * 16)
    with pytest.raises(IDXFormatError, match="not an IDX file") as error:
        read_idx(path)
    assert found in str(error.value) and str(path) in str(error.value)


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("cut, expected", [
    (0, "found only 0 byte"),
    (3, "found only 3 byte"),
    (10, "expected 12 bytes of sizes, found 6"),
    (16 + 28 * 28 * 2 - 1, "expected 1,568 bytes of data, found 1,567"),
])
def test_truncated_files_are_rejected(tmp_path, compress, cut, expected):
    data = idx_bytes(np.ones((2, 28, 28), np.uint8))[:cut]
    path = write(tmp_path, data, compress=compress)
    with pytest.raises(IDXFormatError, match="truncated|empty") as error:
        read_idx(path)
    assert expected in str(error.value) and str(path) in str(error.value)


@pytest.mark.parametrize("compress", [False, True])
def test_extra_bytes_after_the_data_are_rejected(tmp_path, compress):
    path = write(tmp_path, idx_bytes(np.ones(4, np.uint8)) + b"\x00\x07", compress=compress)
    with pytest.raises(IDXFormatError, match=r"shape \(4,\) .*found 2 extra byte"):
        read_idx(path)


def test_a_header_declaring_more_data_than_the_file_can_hold_fails_fast(tmp_path):
    # 2**31 x 2**31 bytes would be a MemoryError (or a swap storm), not a clear message.
    header = b"\x00\x00\x08\x02" + (2**31).to_bytes(4, "big") * 2
    for compress in (False, True):
        path = write(tmp_path, header + b"\x00" * 100, compress=compress, name=f"big{compress}")
        with pytest.raises(IDXFormatError, match="more than a file of this size can hold"):
            read_idx(path)


def test_damaged_gzip_streams_are_rejected(tmp_path):
    blob = bytearray(gzip.compress(idx_bytes(np.arange(2000, dtype=np.uint8) % 7), mtime=0))
    cut = write(tmp_path, b"", name="cut")
    cut.write_bytes(bytes(blob[: len(blob) // 2]))  # stream ends before its end marker
    flipped = write(tmp_path, b"", name="flipped")
    blob[len(blob) // 2] ^= 0xFF  # damage inside the deflate data
    flipped.write_bytes(bytes(blob))
    bad_crc = write(tmp_path, b"", name="crc")
    good = bytearray(gzip.compress(idx_bytes(np.arange(50, dtype=np.uint8)), mtime=0))
    good[-8] ^= 0x01  # the CRC-32 in the trailer
    bad_crc.write_bytes(bytes(good))
    for path in (cut, flipped, bad_crc):
        with pytest.raises(IDXFormatError, match="gzip stream is damaged|truncated") as error:
            read_idx(path)
        assert str(path) in str(error.value)


def test_missing_file_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "nope.gz")


# The loader's checks that the four files form an MNIST-style dataset.

def _replace(blobs, name, array):
    return {**blobs, name: gzip.compress(idx_bytes(array))}


def test_images_of_the_wrong_size_are_rejected(tmp_path):
    _, blobs = make_dataset()
    blobs = _replace(blobs, "t10k-images-idx3-ubyte.gz", np.zeros((5, 27, 28), np.uint8))
    with pytest.raises(IDXFormatError, match="expected 28x28 images, found 27x28") as error:
        fashion_mnist.load_data(path=write_dataset(tmp_path / "d", blobs))
    assert "t10k-images-idx3-ubyte.gz" in str(error.value)


def test_label_count_must_match_image_count(tmp_path):
    _, blobs = make_dataset(n_train=12)
    blobs = _replace(blobs, "train-labels-idx1-ubyte.gz", np.zeros(11, np.uint8))
    with pytest.raises(IDXFormatError, match=r"\(12\), found 11 labels"):
        fashion_mnist.load_data(path=write_dataset(tmp_path / "d", blobs))


def test_labels_must_be_digits(tmp_path):
    _, blobs = make_dataset(n_test=5)
    blobs = _replace(blobs, "t10k-labels-idx1-ubyte.gz", np.array([0, 1, 2, 10, 3], np.uint8))
    with pytest.raises(IDXFormatError, match="expected labels 0-9, found 10"):
        fashion_mnist.load_data(path=write_dataset(tmp_path / "d", blobs))


def test_swapped_image_and_label_files_are_named(tmp_path):
    _, blobs = make_dataset()
    blobs["train-images-idx3-ubyte.gz"], blobs["train-labels-idx1-ubyte.gz"] = (
        blobs["train-labels-idx1-ubyte.gz"], blobs["train-images-idx3-ubyte.gz"])
    with pytest.raises(IDXFormatError, match="train-images-idx3-ubyte.gz: expected magic"):
        fashion_mnist.load_data(path=write_dataset(tmp_path / "d", blobs))


def test_docstring_examples_run():
    import doctest

    import numkeras.datasets
    from numkeras.datasets import _loader, download, idx, mnist

    attempted = 0
    for module in (numkeras.datasets, idx, download, _loader, fashion_mnist, mnist):
        result = doctest.testmod(module)
        assert result.failed == 0, module.__name__
        attempted += result.attempted
    assert attempted >= 10
