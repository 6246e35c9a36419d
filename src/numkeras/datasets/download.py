"""Verified downloads with the standard library: a file lands in place whole and correct, or not
at all.

The body is streamed to a temporary file next to the destination while its SHA-256 is computed;
the length is checked against ``Content-Length`` and the digest against the expected one, and
only then is the temporary file renamed over the destination (an atomic step on POSIX and
Windows). Reading stops one byte past the expected size (or, when no size is known, past the
``Content-Length``, or past ``MAX_UNKNOWN_SIZE``), so an endless body cannot fill the disk.
On any failure the temporary file is deleted and :class:`DownloadError` names the URL and the
problem, so an interrupted or corrupt transfer never leaves a bad file behind.

>>> import pathlib, tempfile
>>> source = pathlib.Path(tempfile.mkdtemp()) / "hello.txt"
>>> _ = source.write_bytes(b"hello")
>>> target = source.with_name("copy.txt")
>>> digest = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
>>> download(source.as_uri(), target, sha256=digest, quiet=True) == target
True
"""

from __future__ import annotations

import hashlib
import os
import pathlib
import sys

from numkeras.utils.files import atomic_file

_CHUNK = 1 << 16
MAX_UNKNOWN_SIZE = 1 << 32  # bytes read at most when neither the caller nor the server says
_SCHEMES = ("http", "https", "file")
DEFAULT_TIMEOUT = 60.0  # seconds of silence on the socket before giving up
USER_AGENT = "numkeras-datasets (+https://github.com/numkeras)"


class DownloadError(OSError):
    """A download failed; the message names the URL and what went wrong.

    >>> issubclass(DownloadError, OSError)
    True
    """


class _ConnectionProblem(Exception):
    """A transient failure (refused, reset, timed out, cut short) that is worth one retry."""


def sha256_of(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file, read in chunks.

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "empty"
    >>> _ = path.write_bytes(b"")
    >>> sha256_of(path)[:16]
    'e3b0c44298fc1c14'
    """
    return file_digest(path, "sha256")


def file_digest(path: str | os.PathLike, algorithm: str) -> str:
    """Hex digest of a file by ``algorithm`` (``"sha256"``, ``"md5"``), read in chunks."""
    digest = _hasher(algorithm)
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(_CHUNK * 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download(url: str, destination: str | os.PathLike, *, sha256: str | None = None,
             size: int | None = None, timeout: float = DEFAULT_TIMEOUT, retries: int = 1,
             quiet: bool = False, stream=None, md5: str | None = None) -> pathlib.Path:
    """Download ``url`` to ``destination``, verifying its length and SHA-256.

    Args:
        url: ``http(s)://`` (or ``file://``) address of the file.
        destination: final path; its directory is created if needed. An existing file there is
            replaced only once the new one has been verified.
        sha256: expected hex digest (case-insensitive).
        size: expected size in bytes, if known: shown by the progress bar when the server sends
            no ``Content-Length``, and a mismatch fails before the hash is computed.
        timeout: seconds the socket may stay silent (connect or read) before the attempt fails.
        retries: extra attempts after a connection error (refused, reset, timeout, body cut
            short). HTTP errors and checksum mismatches are not retried: they would repeat.
        quiet: no progress output.
        stream: where the progress goes (default ``sys.stderr``).
        md5: instead of ``sha256``, for files whose publisher gives only an MD5 (Keras's
            word-index files); exactly one of the two is required.

    Returns:
        The destination path.

    Raises:
        DownloadError: HTTP error, connection error, timeout, truncated body or wrong checksum;
            the temporary file is gone and ``destination`` is untouched.
    """
    check_url(url)
    if (sha256 is None) == (md5 is None):
        raise ValueError("download() needs exactly one of sha256= and md5=.")
    expected = ("sha256", sha256.lower()) if sha256 is not None else ("md5", md5.lower())
    destination = pathlib.Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    attempts = 1 + max(0, retries)
    for attempt in range(1, attempts + 1):
        try:
            return _download_once(url, destination, expected, size, timeout, quiet,
                                  stream or sys.stderr)
        except _ConnectionProblem as problem:
            if attempt == attempts:
                tried = f" (tried {attempts} times)" if attempts > 1 else ""
                message = (f"Could not download {url}: {problem}{tried}. Check the network "
                           "connection or the address and try again.")
                raise DownloadError(message) from problem.__cause__
            if not quiet:
                print(f"Retrying {url} after: {problem}", file=stream or sys.stderr)
    raise AssertionError("unreachable")


def check_url(url, setting: str = "the base URL (NUMKERAS_DATASETS_URL or base_url=)") -> None:
    """A DownloadError unless ``url`` is an absolute http(s) or file URL that urllib can
    open (a malformed mirror setting must say so, not raise from deep inside urllib).

    >>> try:
    ...     check_url("htp:/example.org", "NUMKERAS_DATASETS_URL")
    ... except DownloadError as error:
    ...     print(str(error)[-72:])
    valid http://, https:// or file:// address. Check NUMKERAS_DATASETS_URL.
    """
    import urllib.parse

    try:
        parts = urllib.parse.urlsplit(url)
        _ = parts.port  # a ValueError if the port is not a number in range
        valid = parts.scheme in _SCHEMES and (parts.scheme == "file" or bool(parts.hostname)) \
            and not any(c.isspace() or ord(c) < 32 for c in url)
    except (TypeError, ValueError, AttributeError):  # not a string; a bad port or IPv6 address
        valid = False
    if not valid:
        raise DownloadError(
            f"Could not download {url!r}: not a valid http://, https:// or file:// address. "
            f"Check {setting}.")


def _download_once(url, destination, expected, size, timeout, quiet, stream) -> pathlib.Path:
    algorithm, wanted = expected
    import http.client
    import urllib.error
    import urllib.request

    # atomic_file keeps the temporary file in the destination's directory (so the final rename
    # never crosses file systems) and deletes it when any check below raises.
    with atomic_file(destination) as out:
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                received, digest, declared = _stream_body(
                    response, out, url, out.name, size, quiet, stream, algorithm)
        except DownloadError:
            raise
        except urllib.error.HTTPError as error:
            error.close()
            raise DownloadError(f"Could not download {url}: HTTP {error.code} "
                                f"{error.reason}. Check the address (base URL).") from error
        except urllib.error.URLError as error:
            raise _ConnectionProblem(f"connection failed ({error.reason})") from error
        except http.client.IncompleteRead as error:
            raise _ConnectionProblem("the connection closed before the end of the body "
                                     "announced by Content-Length") from error
        except TimeoutError as error:
            raise _ConnectionProblem(f"timed out: no data for {timeout:g} s") from error
        except (ConnectionError, http.client.HTTPException, OSError) as error:
            raise _ConnectionProblem(f"connection lost ({type(error).__name__}: "
                                     f"{error})") from error
        if declared is not None and received != declared:
            raise _ConnectionProblem(f"the body was cut short: received {received:,} of the "
                                     f"{declared:,} bytes announced by Content-Length")
        if size is not None and received != size:
            raise DownloadError(f"Could not download {url}: expected {size:,} bytes, received "
                                f"{received:,}. The server sent a different file.")
        if digest != wanted:
            label = {"sha256": "SHA-256", "md5": "MD5"}[algorithm]
            raise DownloadError(f"Could not download {url}: {label} mismatch, expected {wanted}, "
                                f"got {digest}. The server sent a different or damaged file; "
                                "nothing was saved.")
    return destination


def _stream_body(response, out, url, temp, size, quiet, stream, algorithm="sha256"):
    """Copy the body to ``out`` while hashing; return ``(bytes, hex digest, Content-Length)``."""
    header = response.headers.get("Content-Length")
    declared = int(header) if header and header.strip().isdigit() else None
    if declared is not None and size is not None and declared != size:
        raise DownloadError(f"Could not download {url}: the server announces {declared:,} bytes, "
                            f"expected {size:,}. It serves a different file; nothing was saved.")
    total = declared if declared is not None else size
    limit = size if size is not None else declared if declared is not None else MAX_UNKNOWN_SIZE
    bar = None
    if not quiet:
        from numkeras.utils.progbar import Progbar

        print(f"Downloading {url}" + (f" ({total:,} bytes)" if total else ""), file=stream)
        bar = Progbar(total, unit_name="B", stream=stream, interval=0.1)
    digest = _hasher(algorithm)
    received = 0
    while True:
        chunk = response.read(min(_CHUNK, limit + 1 - received))
        if not chunk:
            break
        if received + len(chunk) > limit:
            raise DownloadError(f"Could not download {url}: the server sends more than the "
                                f"{limit:,} bytes expected; stopped reading. It serves a "
                                f"different file; nothing was saved.")
        try:
            out.write(chunk)
        except OSError as error:  # a full disk is not a network problem: no retry
            raise DownloadError(f"Could not download {url}: cannot write {temp}: {error}. Free "
                                "some space or set NUMKERAS_HOME elsewhere.") from error
        digest.update(chunk)
        received += len(chunk)
        if bar is not None:
            bar.update(received, finalize=False)
    if bar is not None:
        bar.update(received, finalize=True)
    return received, digest.hexdigest(), declared


def _hasher(algorithm: str):
    """A hash object; MD5 (a checksum of Keras's word indices, not a security measure) is asked
    for with ``usedforsecurity=False``, which FIPS builds of Python require."""
    return hashlib.md5(usedforsecurity=False) if algorithm == "md5" else hashlib.new(algorithm)
