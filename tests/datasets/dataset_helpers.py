"""Builders shared by the dataset tests: IDX bytes, small datasets, a local HTTP file server."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import http.server
import pathlib
import socket
import struct
import threading

import numpy as np

from numkeras.datasets._loader import FILE_NAMES, ROLES, RemoteFile

DEBIAN_DIR = pathlib.Path("/usr/share/datasets/fashion-mnist")
IDX_CODES = {np.dtype("u1"): 0x08, np.dtype("i1"): 0x09, np.dtype("i2"): 0x0B,
             np.dtype("i4"): 0x0C, np.dtype("f4"): 0x0D, np.dtype("f8"): 0x0E}


def idx_bytes(array: np.ndarray, code: int | None = None) -> bytes:
    """Encode an array as IDX (header, big-endian sizes, big-endian values)."""
    array = np.asarray(array)
    code = IDX_CODES[array.dtype.newbyteorder("=")] if code is None else code
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def make_dataset(n_train: int = 12, n_test: int = 5, seed: int = 0):
    """Small random MNIST-style arrays and their four gzip IDX files.

    Returns ``(arrays, blobs)``: ``{role: array}`` and ``{file name: gzip bytes}``.
    """
    rng = np.random.default_rng(seed)
    arrays = {
        "train_images": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train_labels": rng.integers(0, 10, n_train, dtype=np.uint8),
        "test_images": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "test_labels": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    # mtime=0 keeps the bytes, and so the digests, the same on every run.
    blobs = {FILE_NAMES[role]: gzip.compress(idx_bytes(arrays[role]), mtime=0) for role in ROLES}
    return arrays, blobs


def write_dataset(directory: pathlib.Path, blobs: dict) -> pathlib.Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, blob in blobs.items():
        (directory / name).write_bytes(blob)
    return directory


def spec_for(spec, blobs: dict):
    """``spec`` with the digests and sizes of ``blobs`` instead of the published ones."""
    files = {role: RemoteFile(FILE_NAMES[role], hashlib.sha256(blobs[FILE_NAMES[role]])
                              .hexdigest(), len(blobs[FILE_NAMES[role]])) for role in ROLES}
    return dataclasses.replace(spec, files=files)


def assert_arrays(data, arrays: dict) -> None:
    (x_train, y_train), (x_test, y_test) = data
    for got, role in ((x_train, "train_images"), (y_train, "train_labels"),
                      (x_test, "test_images"), (y_test, "test_labels")):
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, arrays[role])


class FileServer:
    """An HTTP server on 127.0.0.1 (port 0) serving ``routes``: ``{"/path": (mode, bytes)}``.

    Modes: ``ok``; ``no-length`` (no Content-Length, body then close); ``drop`` (announce the
    full length, send half, close the socket); ``stall`` (headers, then silence); ``endless``
    (no Content-Length, the body over and over until the client hangs up, at most 64 MiB);
    ``404``.
    ``hits`` counts requests per path.
    """

    def __init__(self):
        self.routes: dict[str, tuple[str, bytes]] = {}
        self.hits: dict[str, int] = {}
        self.release = threading.Event()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.hits[self.path] = server.hits.get(self.path, 0) + 1
                mode, body = server.routes.get(self.path, ("404", b""))
                if mode == "404":
                    self.send_error(404, "Not Found")
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                if mode not in ("no-length", "endless"):
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if mode == "stall":
                    self.wfile.flush()
                    server.release.wait(10)
                elif mode == "endless":
                    try:
                        for _ in range((64 << 20) // max(1, len(body))):
                            self.wfile.write(body)
                    except OSError:  # the client stopped reading: what it should do
                        pass
                elif mode == "drop":
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                else:
                    self.wfile.write(body)
                self.close_connection = True

            def log_message(self, *args):  # keep test output clean
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()

    def serve(self, directory: str, blobs: dict, mode: str = "ok") -> str:
        """Publish ``blobs`` under ``/<directory>/`` and return that base URL."""
        for name, blob in blobs.items():
            self.routes[f"/{directory}/{name}"] = (mode, blob)
        return f"{self.url}{directory}/"

    def close(self):
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def closed_port_url() -> str:
    """A 127.0.0.1 URL nobody listens on: connecting is refused, as when offline."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/"
