"""Bounded reading of chunked HDF5 datasets: no chunk can make numkeras allocate more than the
dataset it belongs to (plus one MiB).

libhdf5 trusts a file's chunk layout. A dataset of ten numbers can declare one chunk of a
gigabyte, and a gzip-compressed chunk can inflate to any size: libhdf5's deflate filter doubles
its output buffer until the stream ends, whatever the chunk's declared size. A weights file of a
few MB could so make a load allocate gigabytes (issue 15). Hence, before anything is read:

- the chunk shape must fit the dataset: each chunk at most ``max(dataset bytes, 1 MiB)``, and
  no more chunks than ``max(4096, dataset bytes / 1 KiB)`` (a bound on the time spent);
- filtered (compressed) chunks are read here, one at a time, as the stored bytes
  (``read_direct_chunk``), after checking that each lies inside the file and is not larger
  than its chunk could legitimately compress to; gzip is inflated with an output bound of one
  chunk, and the other filters HDF5 files use for floats (shuffle, fletcher32) are undone here
  too. Other filters (szip, lzf, scale-offset, n-bit, plugins) are refused with a clear error.

Unfiltered chunks are left to libhdf5 once their shape has been checked: it then reads exactly
one chunk's bytes at a time.

>>> import io, h5py, numpy as np
>>> buffer = io.BytesIO()
>>> with h5py.File(buffer, "w") as f:
...     _ = f.create_dataset("w", data=np.arange(6.0).reshape(2, 3), compression="gzip",
...                          shuffle=True, fletcher32=True)
>>> with h5py.File(buffer, "r") as f:
...     read_chunked(f["w"], len(buffer.getvalue()), "'w.h5'").tolist()
[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
"""

from __future__ import annotations

import math
import zlib

import numpy as np

from numkeras.saving.errors import SavingError, UnsafeFileError

FILTER_DEFLATE, FILTER_SHUFFLE, FILTER_FLETCHER32 = 1, 2, 3
SUPPORTED_FILTERS = {FILTER_DEFLATE: "gzip", FILTER_SHUFFLE: "shuffle",
                     FILTER_FLETCHER32: "fletcher32"}
CHUNK_FLOOR_BYTES = 1 << 20  # a chunk may always be this large, even for a tiny dataset
MIN_AVERAGE_CHUNK_BYTES = 1 << 10
MIN_CHUNK_LIMIT = 4096


def check_chunks(dataset, plist, description: str) -> tuple[tuple, list]:
    """The chunk shape and the filters of a chunked ``dataset``, after checking that its chunks
    fit its size (see the module docstring); a SavingError or UnsafeFileError otherwise."""
    name, shape, itemsize = dataset.name, tuple(dataset.shape), dataset.dtype.itemsize
    try:
        chunk = tuple(int(n) for n in plist.get_chunk())
        filters = [plist.get_filter(i)[:3] for i in range(plist.get_nfilters())]
    except Exception as error:
        raise SavingError(f"{description}: cannot read the chunk layout of dataset '{name}' "
                          f"({error}); the file is corrupt.") from error
    if len(chunk) != len(shape) or any(n < 1 for n in chunk):
        raise SavingError(f"{description}: dataset '{name}' of shape {shape} declares chunks "
                          f"of shape {chunk}; the file is corrupt.")
    nbytes = math.prod(shape) * itemsize
    chunk_bytes = math.prod(chunk) * itemsize
    limit = max(nbytes, CHUNK_FLOOR_BYTES)
    if chunk_bytes > limit:
        raise UnsafeFileError(
            f"{description}: dataset '{name}' ({nbytes} bytes) declares chunks of shape {chunk}"
            f" ({chunk_bytes} bytes each); numkeras refuses chunks larger than the dataset (or "
            f"1 MiB), which could make reading it allocate gigabytes.")
    count = math.prod(-(-n // c) for n, c in zip(shape, chunk))
    max_count = max(MIN_CHUNK_LIMIT, nbytes // MIN_AVERAGE_CHUNK_BYTES)
    if count > max_count:
        raise UnsafeFileError(
            f"{description}: dataset '{name}' is cut into {count} chunks of shape {chunk}; "
            f"numkeras refuses more than {max_count} for {nbytes} bytes (chunks this small make "
            f"a file slow to read). Re-save it without chunking, or with larger chunks.")
    for code, _, _ in filters:
        if code not in SUPPORTED_FILTERS:
            raise SavingError(
                f"{description}: dataset '{name}' is stored with HDF5 filter {code}; numkeras "
                f"reads datasets stored plainly or with gzip, shuffle and fletcher32 (what "
                f"Keras and h5py write). Re-save the file without that compression.")
    return chunk, filters


def read_chunked(dataset, file_size: int, description: str) -> np.ndarray:
    """The values of a chunked ``dataset`` with every allocation bounded by its size."""
    try:
        plist = dataset.id.get_create_plist()
    except Exception as error:
        raise SavingError(f"{description}: cannot read the header of dataset '{dataset.name}' "
                          f"({error}); the file is corrupt.") from error
    chunk, filters = check_chunks(dataset, plist, description)
    if not filters:  # libhdf5 reads one chunk (checked above) at a time
        return np.asarray(dataset[()])
    return _read_filtered(dataset, plist, chunk, filters, file_size, description)


def _read_filtered(dataset, plist, chunk, filters, file_size: int, description: str):
    name, shape, dtype = dataset.name, tuple(dataset.shape), dataset.dtype
    chunk_bytes = math.prod(chunk) * dtype.itemsize
    # gzip can grow incompressible data a little (5 bytes per 16 KiB block, plus a header).
    max_stored = chunk_bytes + chunk_bytes // 1000 + 1024
    grid = math.prod(-(-n // c) for n, c in zip(shape, chunk))
    fill = np.zeros((), dtype)
    try:
        plist.get_fill_value(fill)
        stored_chunks = dataset.id.get_num_chunks()
    except Exception as error:
        raise SavingError(f"{description}: cannot read the chunk index of dataset '{name}' "
                          f"({error}); the file is corrupt.") from error
    if stored_chunks > grid:
        raise SavingError(f"{description}: dataset '{name}' lists {stored_chunks} chunks, but "
                          f"its shape {shape} has room for {grid}; the file is corrupt.")
    values = np.full(shape, fill, dtype)
    seen = set()
    for index in range(stored_chunks):
        where = f"{description}: chunk {index} of dataset '{name}'"
        try:
            info = dataset.id.get_chunk_info(index)
            origin = tuple(int(n) for n in info.chunk_offset)
            offset, size = int(info.byte_offset), int(info.size)
        except Exception as error:
            raise SavingError(f"{where} cannot be located ({error}); the file is corrupt.") \
                from error
        if len(origin) != len(shape) or origin in seen or any(
                o % c or not 0 <= o < n for o, c, n in zip(origin, chunk, shape)):
            raise SavingError(f"{where} is placed at {origin}, which is not a chunk of shape "
                              f"{chunk} inside {shape}; the file is corrupt.")
        seen.add(origin)
        if size > max_stored or offset < 0 or offset + size > file_size:
            raise SavingError(f"{where} occupies {size} bytes at offset {offset}; a chunk of "
                              f"{chunk_bytes} bytes inside a file of {file_size} bytes cannot. "
                              f"The file is truncated or corrupt.")
        try:
            mask, raw = dataset.id.read_direct_chunk(origin)
        except Exception as error:
            raise SavingError(f"{where} cannot be read ({error}); the file is truncated or "
                              f"corrupt.") from error
        data = _unfilter(bytes(raw), int(mask), filters, chunk_bytes, where)
        block = np.frombuffer(data, dtype).reshape(chunk)
        region = tuple(slice(o, min(o + c, n)) for o, c, n in zip(origin, chunk, shape))
        values[region] = block[tuple(slice(0, r.stop - r.start) for r in region)]
    return values


def _unfilter(data: bytes, mask: int, filters, chunk_bytes: int, where: str) -> bytes:
    """Undo ``filters`` (applied in order when writing) on one chunk's stored bytes; bit ``i``
    of ``mask`` set means filter ``i`` was skipped for this chunk."""
    for position in reversed(range(len(filters))):
        if mask >> position & 1:
            continue
        code, _, options = filters[position]
        if code == FILTER_FLETCHER32:
            data = _check_fletcher32(data, where)
        elif code == FILTER_DEFLATE:
            data = _inflate(data, chunk_bytes, where)
        else:
            data = _unshuffle(data, int(options[0]) if len(options) else 1)
    if len(data) != chunk_bytes:
        raise SavingError(f"{where} holds {len(data)} bytes once decoded; its chunk shape "
                          f"needs {chunk_bytes}. The file is corrupt.")
    return data


def _inflate(data: bytes, limit: int, where: str) -> bytes:
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as error:
        raise SavingError(f"{where} is not valid gzip data ({error}); the file is corrupt.") \
            from error
    if len(out) > limit:
        raise UnsafeFileError(f"{where} inflates to more than the {limit} bytes of its chunk "
                              f"(a decompression bomb or a corrupt file); refusing it.")
    if not inflater.eof:
        raise SavingError(f"{where}: its gzip data ends early; the file is truncated or "
                          f"corrupt.")
    return out


def _unshuffle(data: bytes, element_size: int) -> bytes:
    """HDF5's shuffle filter stores byte 0 of every element, then byte 1, ...; bytes past the
    last whole element are kept as they are."""
    count = len(data) // element_size if element_size > 1 else 0
    if count < 2:
        return data
    body = np.frombuffer(data, np.uint8, count * element_size)
    return body.reshape(element_size, count).T.tobytes() + data[count * element_size:]


def fletcher32(data: bytes) -> int:
    """HDF5's Fletcher-32 checksum of ``data`` (16-bit big-endian words, sums mod 65535).

    >>> hex(fletcher32(b"abcde"))
    '0x4ff029c7'
    """
    if len(data) % 2:
        data += b"\0"
    words = np.frombuffer(data, ">u2").astype(np.uint64)
    n = len(words)
    sum1 = sum2 = 0
    for start in range(0, n, 1 << 20):  # blocks keep the products far from uint64 overflow
        part = words[start:start + (1 << 20)]
        weights = (n - start - np.arange(len(part), dtype=np.uint64)) % 65535
        sum1 = (sum1 + int(part.sum())) % 65535
        sum2 = (sum2 + int((part * weights % 65535).sum())) % 65535
    return sum2 << 16 | sum1


def _check_fletcher32(data: bytes, where: str) -> bytes:
    if len(data) < 4:
        raise SavingError(f"{where} is too short for its fletcher32 checksum; the file is "
                          f"corrupt.")
    body, stored = data[:-4], int.from_bytes(data[-4:], "little")
    expected = fletcher32(body)
    # libhdf5 folds its sums so that 0 may appear as 0xffff; files of HDF5 1.6.0-1.6.2 stored
    # the checksum with the bytes of each half swapped.
    candidates = {stored, _swap_halves(stored)}
    if not any(_same_mod(c, expected) for c in candidates):
        raise SavingError(f"{where} fails its fletcher32 checksum; the file is corrupt.")
    return body


def _swap_halves(value: int) -> int:
    b = value.to_bytes(4, "little")
    return int.from_bytes(bytes((b[1], b[0], b[3], b[2])), "little")


def _same_mod(a: int, b: int) -> bool:
    return (a >> 16) % 65535 == (b >> 16) % 65535 and (a & 0xffff) % 65535 == (b & 0xffff) % 65535
