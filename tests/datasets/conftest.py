"""Fixtures for the dataset tests: an isolated home, no network, a local file server.

Every test runs with ``NUMKERAS_HOME`` and ``HOME`` inside ``tmp_path``, without
``NUMKERAS_DATA``/``NUMKERAS_DATASETS_URL``, with the system data directory pointed at an empty
temporary one, and with outgoing connections allowed to 127.0.0.1 only.
"""

from __future__ import annotations

import socket

import pytest
from dataset_helpers import FileServer

from numkeras.datasets import _loader


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Keep the real ~/.numkeras, environment, system copy and network out of every test."""
    monkeypatch.setenv("NUMKERAS_HOME", str(tmp_path / "numkeras_home"))
    monkeypatch.setenv("HOME", str(tmp_path / "user_home"))
    monkeypatch.delenv("NUMKERAS_DATA", raising=False)
    monkeypatch.delenv("NUMKERAS_DATASETS_URL", raising=False)
    monkeypatch.setattr(_loader, "SYSTEM_DATA_DIR", tmp_path / "system_datasets")
    real_create_connection = socket.create_connection

    def local_only(address, *args, **kwargs):
        if address[0] not in ("127.0.0.1", "localhost"):
            raise AssertionError(f"test tried to reach the network: {address}")
        return real_create_connection(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", local_only)
    return tmp_path


@pytest.fixture
def cache(tmp_path):
    return tmp_path / "numkeras_home" / "datasets" / "fashion-mnist"


@pytest.fixture
def server():
    server = FileServer()
    yield server
    server.close()
