"""Atomic file writes: a temporary file in the target's directory, then ``os.replace``.

Every file numkeras writes (models, weights, checkpoints, logs, plots, downloads) goes through
here. A crash (or SIGKILL) at any moment leaves either the previous file or the new one, never
half of one: the rename is atomic on POSIX and Windows file systems.

Overwriting behaves as writing in place would (what Keras does), apart from atomicity:

- a symbolic link is written through: the file it points to is replaced, the link stays;
- an existing file keeps its permission bits (a private 0600 model stays private: the
  temporary file is created with them, never readable by others in between) and, where the
  process may set them, its owner and group.

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
import stat


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
    path = _through_links(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    try:
        existing = os.stat(path)
    except OSError:
        existing = None
    # A new file gets the usual 0o666 & ~umask mode, as a plain open() would give it (not
    # mkstemp's 0o600); a replaced one is created with its predecessor's permission bits.
    mode = 0o666 if existing is None else stat.S_IMODE(existing.st_mode) & 0o777
    temporary = os.path.join(directory, f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
    try:
        with open(temporary, "xb", opener=lambda name, flags: os.open(name, flags, mode)) \
                as handle:
            if existing is not None:
                _keep_mode_and_owner(handle.fileno(), temporary, existing)
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    _fsync_directory(directory)


def _through_links(path: str, limit: int = 40) -> str:
    """The file a chain of symbolic links at ``path`` ends at (which need not exist yet); a
    loop or a chain of more than ``limit`` links is an OSError, as open() would raise."""
    for _ in range(limit):
        if not os.path.islink(path):
            return path
        target = os.readlink(path)
        path = os.path.join(os.path.dirname(path), target)
    raise OSError(f"Too many levels of symbolic links: '{path}'.")


def _keep_mode_and_owner(descriptor: int, name: str, existing: os.stat_result) -> None:
    """Give the new file the replaced one's permission bits, and its owner and group where
    allowed (only root may give a file away; an owner may still set the group)."""
    mode = stat.S_IMODE(existing.st_mode) & 0o777
    if hasattr(os, "fchmod"):
        os.fchmod(descriptor, mode)  # the umask may have removed bits the old file had
    else:  # pragma: no cover - Windows keeps only a read-only flag
        os.chmod(name, mode)
    if not hasattr(os, "fchown"):  # pragma: no cover - Windows
        return
    for uid, gid in ((existing.st_uid, existing.st_gid), (-1, existing.st_gid)):
        try:
            os.fchown(descriptor, uid, gid)
            return
        except OSError:
            continue


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
