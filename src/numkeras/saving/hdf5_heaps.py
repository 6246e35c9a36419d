"""A check of an HDF5 file's global heaps before libhdf5 reads text from them.

Variable-length strings (the text attributes of legacy ``.h5`` files: ``model_config``,
``layer_names``, ``weight_names`` ...) live in "global heap collections" (signature ``GCOL``).
libhdf5 walks the objects of a collection by their declared sizes and does not check them: an
object of index 0 and size 0 makes it loop forever, and a collection declaring a size beyond
the file makes it allocate that much (found by tests/saving/test_fuzz.py). So before numkeras
reads such an attribute, every collection in the file is walked here exactly as libhdf5 walks
it, and a collection libhdf5 could not walk safely is a :class:`SavingError`.

Collections are found by their signature, scanning the whole file; a chance match inside
numeric data is only refused if it also carries a collection's version, zero bytes and size.

The attribute itself stores, per string, a length and the heap object holding it, and libhdf5
allocates (and clears) that length before it looks at the object: a damaged length of 2**31
made a 20 kB file take 4 GB. So :func:`check_attribute` finds the attribute's message in its
object's header (versions 1 and 2, with continuation blocks) and checks every length against
the object it points to. An attribute kept outside the header (dense storage, which Keras and
tf.keras never write) cannot be checked this way: it is refused.

>>> import io, h5py
>>> buffer = io.BytesIO()
>>> with h5py.File(buffer, "w") as f:
...     f.attrs["model_config"] = '{"class_name": "Sequential"}'
>>> heaps = check_global_heaps(buffer.getvalue(), "'m.h5'")
>>> len(heaps)  # (collection address, index) -> size of each object
1
>>> check_attribute(buffer.getvalue(), 96, "model_config", heaps, "'m.h5'")
"""

from __future__ import annotations

import contextlib
import mmap
import os

from numkeras.saving.errors import SavingError

SIGNATURE = b"GCOL"
_SUPERBLOCK = b"\x89HDF\r\n\x1a\n"
_MIN_COLLECTION = 4096  # H5HG_MINSIZE: libhdf5 never writes smaller collections


def _sizes(data) -> tuple[int, int]:
    """(size of offsets, size of lengths) from the superblock (versions 0 to 3)."""
    version = data[8] if len(data) > 8 else 0
    position = 13 if version < 2 else 9
    sizes = tuple(data[position:position + 2]) if len(data) > position + 1 else (8, 8)
    return tuple(size if size in (2, 4, 8, 16) else 8 for size in sizes)


@contextlib.contextmanager
def file_bytes(source):
    """The bytes of ``source`` (bytes, or a path mapped read-only into memory)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        yield bytes(source)
        return
    with open(source, "rb") as handle:
        if os.fstat(handle.fileno()).st_size == 0:
            yield b""
            return
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            yield data


def check_global_heaps(source, description: str) -> dict:
    """Walk every global heap collection of the HDF5 file ``source`` (bytes or a path) as
    libhdf5 would; return its objects as ``{(collection address, index): size}``, or raise
    SavingError naming the first collection libhdf5 could not walk (a loop, an object past its
    collection, a collection past the end of the file)."""
    with file_bytes(source) as data:
        return _check(data, description)


def _check(data, description: str) -> dict:
    objects: dict = {}
    if data[:8] != _SUPERBLOCK:
        return objects
    lengths = _sizes(data)[1]
    header = 8 + lengths
    start = data.find(SIGNATURE)
    while start >= 0:
        if _looks_like_collection(data, start, lengths):
            _walk(data, start, lengths, header, description, objects)
        start = data.find(SIGNATURE, start + 1)
    return objects


def _looks_like_collection(data, start: int, lengths: int) -> bool:
    head = data[start:start + 8 + lengths]
    return len(head) == 8 + lengths and head[4] == 1 and head[5:8] == b"\0\0\0"


def _walk(data, start: int, lengths: int, header: int, description: str,
          objects: dict) -> None:
    where = f"{description}: the global heap collection at byte {start}"
    size = int.from_bytes(data[start + 8:start + header], "little")
    end = start + size
    if size < _MIN_COLLECTION or end > len(data):
        raise SavingError(f"{where} declares {size} bytes, but the file has {len(data)} bytes "
                          f"(and collections have at least {_MIN_COLLECTION}); the file is "
                          f"corrupt.")
    object_header = 8 + lengths  # index (2), reference count (2), reserved (4), size
    position = start + header
    while position < end:
        if position + object_header > end:  # libhdf5 takes a tiny tail as free space
            return
        index = int.from_bytes(data[position:position + 2], "little")
        object_size = int.from_bytes(data[position + 8:position + object_header], "little")
        # libhdf5: object 0 is the free space, its size counted from its header; the others
        # are a header plus their data rounded up to 8 bytes.
        need = object_size if index == 0 else object_header + -(-object_size // 8) * 8
        if need <= 0 or position + need > end:
            raise SavingError(f"{where} holds an object (index {index}) of {object_size} "
                              f"bytes at byte {position}, which does not fit in the "
                              f"collection; the file is corrupt (libhdf5 would loop or read "
                              f"past it).")
        if index:
            objects[(start, index)] = object_size
        position += need


# ----- attributes: find the message in the object header, check its strings' lengths -----
_ATTRIBUTE, _CONTINUATION, _ATTRIBUTE_INFO = 0x000C, 0x0010, 0x0015
_VLEN = 9
_MAX_BLOCKS = 1024  # continuation blocks followed per header


def check_attribute(source, header_address: int, name: str, heap_objects: dict,
                    description: str) -> None:
    """Check the variable-length values of attribute ``name`` of the object whose header is
    at ``header_address``: each stored length must fit the heap object it points to, so that
    libhdf5's read allocates no more than the file holds. A SavingError otherwise."""
    where = f"{description}, attribute '{name}'"
    with file_bytes(source) as data:
        offsets, lengths = _sizes(data)
        message = _find_attribute(data, header_address, name.encode("utf-8"), offsets,
                                  lengths, where)
        if message is None:
            return  # libhdf5 will not find it either
        count, variable, base_size, values = _attribute_layout(message, lengths, where)
        if not variable:  # fixed-size values, stored inside the message itself
            return
        record = 8 + offsets  # length (4), heap collection address, object index (4)
        if len(values) < count * record:
            raise SavingError(f"{where} declares {count} values but stores "
                              f"{len(values)} bytes; the file is corrupt.")
        for i in range(count):
            entry = values[i * record:(i + 1) * record]
            length = int.from_bytes(entry[:4], "little")
            address = int.from_bytes(entry[4:4 + offsets], "little")
            index = int.from_bytes(entry[4 + offsets:8 + offsets], "little")
            if length and heap_objects.get((address, index), -1) < length * base_size:
                raise SavingError(
                    f"{where}: value {i} declares {length * base_size} bytes, but the heap "
                    f"object it points to ({address}, {index}) holds "
                    f"{heap_objects.get((address, index), 'nothing')}; the file is corrupt.")


def _u(data, position: int, size: int) -> int:
    return int.from_bytes(data[position:position + size], "little")


def _find_attribute(data, address: int, name: bytes, offsets: int, lengths: int, where: str):
    """The body of the attribute message called ``name`` in the header at ``address``."""
    for kind, body in _messages(data, address, offsets, lengths, where):
        if kind == _ATTRIBUTE and _attribute_name(body) == name:
            return body
        if kind == _ATTRIBUTE_INFO and _dense_storage(body, offsets):
            raise SavingError(f"{where}: the object keeps its attributes in dense storage, "
                              f"which numkeras does not read (Keras and tf.keras never write "
                              f"it); re-save the file with h5py's default settings.")
    return None


def _messages(data, address: int, offsets: int, lengths: int, where: str):
    """(type, body) of every message of the object header at ``address``, following its
    continuation blocks; a SavingError where the header does not parse."""
    corrupt = SavingError(f"{where}: the object header at byte {address} is corrupt.")
    if not 0 <= address < len(data):
        raise corrupt
    version2 = data[address:address + 4] == b"OHDR"
    if version2:
        flags = data[address + 5]
        position = address + 6 + (16 if flags & 0x20 else 0) + (4 if flags & 0x10 else 0)
        width = 1 << (flags & 3)
        blocks = [(position + width, _u(data, position, width), flags)]
    elif data[address] == 1:
        blocks = [(address + 16, _u(data, address + 8, 4), 0)]
    else:
        raise corrupt
    followed = 0
    while blocks:
        start, size, flags = blocks.pop(0)
        end = start + size
        if size < 0 or end > len(data):
            raise corrupt
        position = start
        header = (4 + (2 if flags & 0x04 else 0)) if version2 else 8
        while position + header <= end:
            if version2:
                kind, body_size = data[position], _u(data, position + 1, 2)
            else:
                kind, body_size = _u(data, position, 2), _u(data, position + 2, 2)
            body = position + header
            if body + body_size > end:
                raise corrupt
            if kind == _CONTINUATION:
                followed += 1
                if followed > _MAX_BLOCKS:
                    raise corrupt
                block, block_size = _u(data, body, offsets), _u(data, body + offsets, lengths)
                if version2:  # "OCHK", messages, checksum
                    if data[block:block + 4] != b"OCHK":
                        raise corrupt
                    blocks.append((block + 4, block_size - 8, flags))
                else:
                    blocks.append((block, block_size, flags))
            else:
                yield kind, data[body:body + body_size]
            position = body + body_size


def _attribute_name(body) -> bytes | None:
    if len(body) < 8 or body[0] not in (1, 2, 3):
        return None
    size = _u(body, 2, 2)
    start = 8 if body[0] == 1 else 8 + (body[0] == 3)
    return bytes(body[start:start + size]).rstrip(b"\0")


def _dense_storage(body, offsets: int) -> bool:
    flags = body[1] if len(body) > 1 else 0
    position = 2 + (2 if flags & 1 else 0)
    heap = _u(body, position, offsets)
    return len(body) >= position + offsets and heap != (1 << 8 * offsets) - 1


def _pad(size: int, version: int) -> int:
    return -(-size // 8) * 8 if version == 1 else size


def _attribute_layout(body, lengths: int, where: str):
    """(element count, whether variable-length, base size, values) of an attribute
    message."""
    version = body[0]
    if version not in (1, 2, 3) or (version > 1 and body[1] & 0x03):
        raise SavingError(f"{where}: the attribute message (version {version}) uses shared "
                          f"types or spaces, which numkeras does not read.")
    name_size, type_size, space_size = _u(body, 2, 2), _u(body, 4, 2), _u(body, 6, 2)
    position = 8 + (version == 3)
    position += _pad(name_size, version)
    datatype = body[position:position + type_size]
    position += _pad(type_size, version)
    space = body[position:position + space_size]
    position += _pad(space_size, version)
    if len(datatype) < 8 or len(space) < 4:
        raise SavingError(f"{where}: the attribute message is cut short; the file is corrupt.")
    count = _element_count(space, lengths, where)
    if datatype[0] & 0x0F != _VLEN:
        return count, False, 1, b""
    # A sequence of the base type, or a string (class bits 0-3 = 1) of bytes.
    is_string = datatype[1] & 0x0F == 1
    base_size = 1 if is_string else max(1, _u(datatype, 12, 4))
    return count, True, base_size, body[position:]


def _element_count(space, lengths: int, where: str) -> int:
    version, rank = space[0], space[1]
    if version == 1:
        dims_at = 8
    elif version == 2:
        if space[3] == 2:  # null dataspace: no values
            return 0
        dims_at = 4
    else:
        raise SavingError(f"{where}: dataspace version {version} is unknown; the file is "
                          f"corrupt.")
    count = 1
    for axis in range(rank):
        count *= _u(space, dims_at + axis * lengths, lengths)
    if count > 1 << 24:
        raise SavingError(f"{where} declares {count} values; the file is corrupt.")
    return count
