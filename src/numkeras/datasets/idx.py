"""Reader for the IDX format of MNIST and Fashion-MNIST, gzip-compressed or raw.

An IDX file is a 4-byte magic number ``00 00 <dtype code> <ndim>``, then ``ndim`` big-endian
uint32 sizes, then the values in C order, big-endian. Every way a file can be wrong (not IDX,
unknown dtype, truncated, extra bytes, damaged gzip) raises :class:`IDXFormatError` naming the
file, what was expected and what was found; a wrongly shaped array is never returned.

>>> import gzip, pathlib, tempfile
>>> path = pathlib.Path(tempfile.mkdtemp()) / "labels-idx1-ubyte.gz"
>>> _ = path.write_bytes(gzip.compress(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1])))
>>> read_idx(path)
array([7, 2, 1], dtype=uint8)
"""

from __future__ import annotations

import gzip
import math
import os
import zlib

import numpy as np

# IDX dtype code -> (big-endian numpy dtype as stored, name used in messages).
DTYPES = {
    0x08: (np.dtype("u1"), "unsigned byte"),
    0x09: (np.dtype("i1"), "signed byte"),
    0x0B: (np.dtype(">i2"), "short (2 bytes)"),
    0x0C: (np.dtype(">i4"), "int (4 bytes)"),
    0x0D: (np.dtype(">f4"), "float (4 bytes)"),
    0x0E: (np.dtype(">f8"), "double (8 bytes)"),
}
MAGIC_LABELS = 0x00000801  # unsigned bytes, 1 dimension
MAGIC_IMAGES = 0x00000803  # unsigned bytes, 3 dimensions
GZIP_MAGIC = b"\x1f\x8b"
# Deflate cannot expand data more than 1032:1, so a gzip file of n bytes holds at most
# about 1032 * n bytes. Checking a header's declared size against this bound catches a corrupt
# header before we try to allocate gigabytes for it.
MAX_DEFLATE_RATIO = 1032
_CHUNK = 1 << 20


class IDXFormatError(ValueError):
    """An IDX file is damaged, truncated or not the kind of file that was expected.

    >>> issubclass(IDXFormatError, ValueError)
    True
    """


def describe_magic(magic: int) -> str:
    """Spell out a magic number: ``0x00000803 (unsigned byte, 3 dimensions)``.

    >>> describe_magic(0x801)
    '0x00000801 (unsigned byte, 1 dimension)'
    """
    code, ndim = (magic >> 8) & 0xFF, magic & 0xFF
    kind = DTYPES[code][1] if code in DTYPES else f"unknown dtype code 0x{code:02X}"
    if magic >> 16:
        kind = "not an IDX header"
    return f"0x{magic:08X} ({kind}, {ndim} dimension{'' if ndim == 1 else 's'})"


def read_idx(path: str | os.PathLike, *, magic: int | None = None) -> np.ndarray:
    """Read an IDX file (gzip-compressed or raw, detected from its first bytes) into an array.

    Args:
        path: the file, e.g. ``train-images-idx3-ubyte.gz``.
        magic: if given, the magic number the file must have, e.g. :data:`MAGIC_IMAGES`
            (``0x00000803``); checked before any data is read.

    Returns:
        An array in native byte order with the shape from the header; uint8 for MNIST files.
        The array is writable and owns its memory.

    Raises:
        IDXFormatError: the file is not valid IDX, has the wrong magic number, is truncated,
            has bytes after the declared data, or its gzip stream is damaged.
        OSError: the file cannot be opened.

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "tiny-idx2-ubyte"
    >>> _ = path.write_bytes(bytes([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3]) + bytes(range(6)))
    >>> read_idx(path).shape
    (2, 3)
    """
    path = os.fspath(path)
    with open(path, "rb") as raw:
        compressed = raw.read(2) == GZIP_MAGIC
        raw.seek(0)
        file_size = os.fstat(raw.fileno()).st_size
        if not compressed:
            return _read_stream(raw, path, magic, max_payload=file_size)
        try:
            with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
                return _read_stream(stream, path, magic,
                                    max_payload=MAX_DEFLATE_RATIO * file_size)
        except (gzip.BadGzipFile, zlib.error, EOFError) as error:
            # EOFError is how gzip reports a stream cut off before its end marker.
            raise IDXFormatError(
                f"{path}: the gzip stream is damaged ({error}). Expected a complete gzip file; "
                "delete it and get a fresh copy (numkeras downloads missing files again)."
            ) from error


def _read_stream(stream, path: str, magic: int | None, max_payload: int) -> np.ndarray:
    header = _read_exactly(stream, 4)
    if len(header) < 4:
        raise IDXFormatError(f"{path}: expected a 4-byte IDX magic number, found only "
                             f"{len(header)} byte(s); the file is empty or truncated.")
    found = int.from_bytes(header, "big")
    if header[:2] != b"\0\0" or header[2] not in DTYPES or header[3] == 0:
        raise IDXFormatError(
            f"{path}: not an IDX file. Expected a magic number 0x0000TTNN (TT a dtype code in "
            f"{{{', '.join(f'0x{c:02X}' for c in DTYPES)}}}, NN >= 1 dimensions), found "
            f"0x{found:08X}.")
    if magic is not None and found != magic:
        raise IDXFormatError(f"{path}: expected magic number {describe_magic(magic)}, "
                             f"found {describe_magic(found)}.")
    dtype = DTYPES[header[2]][0]
    ndim = header[3]
    dims_bytes = _read_exactly(stream, 4 * ndim)
    if len(dims_bytes) < 4 * ndim:
        raise IDXFormatError(f"{path}: the header declares {ndim} dimensions, so expected "
                             f"{4 * ndim} bytes of sizes, found {len(dims_bytes)}; the file is "
                             "truncated.")
    shape = tuple(int(d) for d in np.frombuffer(dims_bytes, dtype=">u4"))
    expected = math.prod(shape) * dtype.itemsize
    if expected > max_payload:
        raise IDXFormatError(
            f"{path}: the header declares shape {shape} ({expected:,} bytes of data), more than "
            f"a file of this size can hold; the header is corrupt or the file is truncated.")
    payload = np.empty(expected, dtype=np.uint8)
    got = _read_into(stream, memoryview(payload))
    if got < expected:
        raise IDXFormatError(f"{path}: the header declares shape {shape}, so expected "
                             f"{expected:,} bytes of data, found {got:,}; the file is truncated.")
    extra = len(_read_exactly(stream, _CHUNK))
    if extra:
        more = "" if extra < _CHUNK else " or more"
        raise IDXFormatError(f"{path}: the header declares shape {shape} ({expected:,} bytes "
                             f"of data), found {extra:,}{more} extra byte(s) after them.")
    values = payload.view(dtype).reshape(shape)
    # Multi-byte IDX values are big-endian; hand out native ones so arithmetic is not slowed
    # down (and other libraries are not surprised) by a swapped dtype.
    return values if dtype.isnative else values.astype(dtype.newbyteorder("="))


def _read_exactly(stream, size: int) -> bytes:
    """Read ``size`` bytes, or fewer only at the end of the stream."""
    parts, remaining = [], size
    while remaining:
        part = stream.read(remaining)
        if not part:
            break
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


def _read_into(stream, buffer: memoryview) -> int:
    """Fill ``buffer`` from the stream; return how many bytes arrived before the end."""
    filled = 0
    while filled < len(buffer):
        count = stream.readinto(buffer[filled:filled + _CHUNK])
        if not count:
            break
        filled += count
    return filled
