"""Atomic file writes: a temporary file in the target's directory, then ``os.replace``.

Every file numkeras writes (models, weights, checkpoints, logs, plots, downloads) goes through
here. A crash (or SIGKILL) at any moment leaves either the previous file or the new one, never
half of one: the rename is atomic on POSIX and Windows file systems.

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "out.bin")
>>> write_atomic(path, lambda handle: handle.write(b"abc"))
>>> open(path, "rb").read()
b'abc'
"""

from __future__ import annotations

import contextlib
import os
import secrets


@contextlib.contextmanager
def atomic_file(path, overwrite: bool = True):
    """A binary file handle whose contents replace ``path`` only if the block succeeds.

    The temporary file is flushed and fsynced before the rename, and removed if the block
    raises (so a failed checksum, say, leaves nothing behind). ``overwrite=False`` refuses to
    replace an existing file.
    """
    path = os.fspath(path)
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"'{path}' already exists. Pass overwrite=True to replace it.")
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    # open(..., "xb") rather than mkstemp: the file gets the usual 0o666 & ~umask mode, as a
    # plain open() would give it, instead of mkstemp's 0o600.
    temporary = os.path.join(directory, f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
    try:
        with open(temporary, "xb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    _fsync_directory(directory)


def write_atomic(path, write, overwrite: bool = True) -> None:
    """Call ``write(handle)`` on a temporary file beside ``path``, then rename it to ``path``."""
    with atomic_file(path, overwrite=overwrite) as handle:
        write(handle)


def write_text_atomic(path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    write_atomic(path, lambda handle: handle.write(text.encode("utf-8")))


def _fsync_directory(directory: str) -> None:
    """Persist the rename itself (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
