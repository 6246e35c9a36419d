"""Chunked and compressed HDF5 datasets (issue 15, item 1): a weights dataset of the right
shape can declare huge chunks, inflate far beyond its chunk, or be cut into millions of chunks.
Each is refused before the memory is allocated, in all three containers (``.weights.h5``, the
weights inside ``.keras``, legacy ``.h5``); genuine compressed files still load exactly."""

import doctest
import functools
import io
import zlib

import h5py
import numpy as np
import pytest
from tests.saving.helpers import members, rezip
from tests.saving.limits import bounded

import numkeras as keras
from numkeras.saving import SavingError, UnsafeFileError, hdf5_chunks

MIB = 1 << 20


def _model(units=4, features=8):
    model = keras.Sequential([keras.Input((features,)), keras.layers.Dense(units)])
    model.layers[0].kernel.assign(np.arange(features * units, dtype=np.float32)
                                  .reshape(features, units) / 7)
    return model


@functools.lru_cache(maxsize=None)
def _zeros_stream(nbytes: int) -> bytes:
    """A zlib stream of ``nbytes`` zero bytes, compressed about 1000:1, made piece by piece."""
    packer, block = zlib.compressobj(9), bytes(MIB)
    return b"".join(packer.compress(block) for _ in range(nbytes // MIB)) + packer.flush()


def _kernel_path(store) -> str:
    found = []
    store.visititems(lambda name, node: found.append(name)
                     if isinstance(node, h5py.Dataset) and node.ndim == 2 else None)
    (path,) = found
    return path


def _replace_kernel(source: bytes, write) -> bytes:
    """``source`` (an HDF5 file) with its one 2-D dataset (the kernel) rewritten by
    ``write(group, name, shape, dtype)``."""
    buffer = io.BytesIO(source)
    with h5py.File(buffer, "r+") as store:
        path = _kernel_path(store)
        shape, dtype = store[path].shape, store[path].dtype
        group_path, _, name = path.rpartition("/")
        group = store[group_path] if group_path else store
        del group[name]
        write(group, name, shape, dtype)
    return buffer.getvalue()


def _files(model, tmp_path, write):
    """(description, loader) pairs: the three containers, each with the kernel rewritten."""
    weights_path = tmp_path / "m.weights.h5"
    model.save_weights(weights_path)
    weights_path.write_bytes(_replace_kernel(weights_path.read_bytes(), write))
    legacy_path = tmp_path / "m.h5"
    model.save(legacy_path)
    legacy_path.write_bytes(_replace_kernel(legacy_path.read_bytes(), write))
    archive = members(keras.saving.archive_bytes(model))
    archive["model.weights.h5"] = _replace_kernel(archive["model.weights.h5"], write)
    keras_path = tmp_path / "m.keras"
    keras_path.write_bytes(rezip(archive))
    return [
        (".weights.h5", lambda: model.load_weights(weights_path)),
        (".h5 load_weights", lambda: model.load_weights(legacy_path)),
        (".h5 load_model", lambda: keras.models.load_model(legacy_path)),
        (".keras load_weights", lambda: model.load_weights(keras_path)),
        (".keras load_model", lambda: keras.models.load_model(keras_path)),
    ]


def _gzip_bomb(nbytes):
    def write(group, name, shape, dtype):
        dataset = group.create_dataset(name, shape=shape, dtype=dtype, chunks=shape,
                                       compression="gzip")
        dataset.id.write_direct_chunk((0,) * len(shape), _zeros_stream(nbytes))
    return write


def _huge_chunk(group, name, shape, dtype):
    # Chunks may exceed the shape only for extendible datasets; HDF5 allocates whole chunks.
    dataset = group.create_dataset(name, shape=shape, dtype=dtype, maxshape=(None, None),
                                   chunks=(1 << 14, 1 << 13), compression="gzip")
    dataset.id.write_direct_chunk((0, 0), zlib.compress(bytes(64)))


def _tiny_chunks(group, name, shape, dtype):
    group.create_dataset(name, data=np.zeros(shape, dtype), chunks=(1, 1))


def _lzf(group, name, shape, dtype):
    group.create_dataset(name, data=np.zeros(shape, dtype), compression="lzf")


@pytest.mark.parametrize("model_shape, write, error, match", [
    pytest.param((4, 8), _gzip_bomb(64 * MIB), SavingError, "occupies",
                 id="gzip bomb in one small chunk"),
    pytest.param((512, 512), _gzip_bomb(256 * MIB), UnsafeFileError, "inflates to more than",
                 id="gzip bomb in a 1 MiB chunk"),
    pytest.param((4, 8), _huge_chunk, UnsafeFileError, "refuses chunks",
                 id="chunk of 512 MiB declared"),
    pytest.param((128, 64), _tiny_chunks, UnsafeFileError, "chunks of shape",
                 id="8192 chunks of 4 bytes"),
    pytest.param((4, 8), _lzf, SavingError, "HDF5 filter 32000", id="lzf filter"),
])
def test_hostile_chunks_are_refused_before_allocating(tmp_path, model_shape, write, error,
                                                     match):
    model = _model(*model_shape)
    for description, load in _files(model, tmp_path, write):
        def attempt():
            with pytest.raises(error, match=match):
                load()
        bounded(attempt, max_bytes=48 * MIB, seconds=60)


def _compressed(**storage):
    def write(group, name, shape, dtype):
        values = np.arange(np.prod(shape), dtype=np.float32).reshape(shape) / 7
        group.create_dataset(name, data=values.astype(dtype), **storage)
    return write


@pytest.mark.parametrize("storage", [
    {"compression": "gzip"},
    {"compression": "gzip", "shuffle": True, "fletcher32": True, "chunks": (3, 3)},
    {"shuffle": True, "chunks": (8, 1)},
    {"fletcher32": True},
    {"chunks": (5, 2)},  # unfiltered: libhdf5 reads it after the chunk check
], ids=str)
def test_genuine_chunked_and_compressed_weights_load_exactly(tmp_path, storage):
    source = _model()
    expected = source.layers[0].kernel.data.copy()
    for description, load in _files(source, tmp_path, _compressed(**storage)):
        source.layers[0].kernel.assign(np.zeros_like(expected))
        loaded = load()
        kernel = (loaded or source).layers[0].kernel.data
        np.testing.assert_array_equal(kernel, expected, err_msg=description)


def test_a_damaged_chunk_is_a_saving_error(tmp_path):
    weights = tmp_path / "m.weights.h5"
    model = _model()
    model.save_weights(weights)
    data = _replace_kernel(weights.read_bytes(), _compressed(compression="gzip",
                                                             fletcher32=True))
    with h5py.File(io.BytesIO(data), "r") as store:
        path = _kernel_path(store)
        info = store[path].id.get_chunk_info(0)
    for position in (info.byte_offset + 2, info.byte_offset + info.size - 1):
        damaged = bytearray(data)
        damaged[position] ^= 0xFF
        weights.write_bytes(bytes(damaged))
        with pytest.raises(SavingError, match="m.weights.h5"):
            model.load_weights(weights)


def test_fletcher32_matches_libhdf5():
    rng = np.random.default_rng(0)
    for size in (1, 2, 3, 361, 720, 5001):
        buffer = io.BytesIO()
        with h5py.File(buffer, "w") as store:
            data = rng.integers(0, 256, size, dtype=np.uint8)
            dataset = store.create_dataset("d", data=data, chunks=(size,), fletcher32=True)
            _, raw = dataset.id.read_direct_chunk((0,))
        assert hdf5_chunks._same_mod(int.from_bytes(raw[-4:], "little"),
                                     hdf5_chunks.fletcher32(raw[:-4]))


def test_module_examples():
    assert doctest.testmod(hdf5_chunks).failed == 0
