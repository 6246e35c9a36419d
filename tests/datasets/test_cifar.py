"""CIFAR-10/100: small generated archives served locally, Keras's shapes and dtypes, and the
safety of reading untrusted pickles and tar files."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import pickle
import tarfile

import numpy as np
import pytest

from numkeras.datasets import CIFARFormatError, DatasetNotFoundError, _cifar, cifar10, cifar100
from numkeras.datasets._loader import RemoteFile


def batch_pickle(images: np.ndarray, labels: dict) -> bytes:
    """A batch laid out as the real files: bytes keys, channels-first rows. Protocol 3: the
    real files are Python 2 pickles (protocol 2, byte strings as SHORT_BINSTRING); Python 3's
    protocol 2 would spell bytes as calls to _codecs.encode, which the loader rightly refuses."""
    rows = images.transpose(0, 3, 1, 2).reshape(len(images), -1)
    batch = {b"batch_label": b"generated", b"data": rows,
             b"filenames": [b"img_%d.png" % i for i in range(len(images))]}
    batch.update({key.encode(): list(map(int, value)) for key, value in labels.items()})
    return pickle.dumps(batch, protocol=3)


def tar_gz(members: dict) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def make_cifar10(seed=0, n=3):
    """(arrays, archive bytes): five train batches of n images and a test batch of 2."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (5 * n + 2, 32, 32, 3), dtype=np.uint8)
    y = rng.integers(0, 10, 5 * n + 2)
    members = {f"cifar-10-batches-py/data_batch_{i + 1}":
               batch_pickle(x[i * n:(i + 1) * n], {"labels": y[i * n:(i + 1) * n]})
               for i in range(5)}
    members["cifar-10-batches-py/test_batch"] = batch_pickle(x[5 * n:], {"labels": y[5 * n:]})
    members["cifar-10-batches-py/readme.html"] = b"<html></html>"
    return (x, y), members


def with_archive(monkeypatch, module, blob: bytes):
    """Point ``module.SPEC`` at the digest and size of ``blob``."""
    archive = RemoteFile(module.SPEC.archive.name, hashlib.sha256(blob).hexdigest(), len(blob))
    monkeypatch.setattr(module, "SPEC", dataclasses.replace(module.SPEC, archive=archive))


def test_cifar10_downloads_verifies_caches_and_matches_keras_layout(server, monkeypatch,
                                                                    tmp_path):
    (x, y), members = make_cifar10()
    blob = tar_gz(members)
    with_archive(monkeypatch, cifar10, blob)
    url = server.serve("kriz", {"cifar-10-python.tar.gz": blob})
    (x_train, y_train), (x_test, y_test) = cifar10.load_data(base_url=url, quiet=True)
    assert x_train.shape == (15, 32, 32, 3) and x_train.dtype == np.uint8
    assert y_train.shape == (15, 1) and y_train.dtype == np.uint8
    np.testing.assert_array_equal(x_train, x[:15])
    np.testing.assert_array_equal(y_train[:, 0], y[:15])
    np.testing.assert_array_equal(x_test, x[15:])
    np.testing.assert_array_equal(y_test[:, 0], y[15:])
    cached = tmp_path / "numkeras_home" / "datasets" / "cifar-10" / "cifar-10-python.tar.gz"
    assert cached.read_bytes() == blob
    cifar10.load_data(base_url=url, quiet=True)  # from the cache: no second request
    assert server.hits == {"/kriz/cifar-10-python.tar.gz": 1}


def test_a_download_with_the_wrong_digest_is_refused(server, monkeypatch, tmp_path):
    _, members = make_cifar10()
    blob = tar_gz(members)
    with_archive(monkeypatch, cifar10, blob)
    url = server.serve("kriz", {"cifar-10-python.tar.gz": blob[:-1] + bytes([blob[-1] ^ 1])})
    with pytest.raises(DatasetNotFoundError, match="SHA-256|sha256|checksum"):
        cifar10.load_data(base_url=url, quiet=True)
    assert not (tmp_path / "numkeras_home" / "datasets" / "cifar-10"
                / "cifar-10-python.tar.gz").exists()


def test_the_published_digests_are_keras_ones():
    assert cifar10.SPEC.archive.sha256.startswith("6d958be0")
    assert cifar10.SPEC.archive.size == 170498071
    assert cifar100.SPEC.archive.sha256.startswith("85cd44d0")
    assert cifar100.SPEC.archive.size == 169001437


@pytest.mark.parametrize("mode, classes", [("fine", 100), ("coarse", 20)])
def test_cifar100_label_modes(tmp_path, mode, classes):
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (6, 32, 32, 3), dtype=np.uint8)
    fine, coarse = rng.integers(0, 100, 6), rng.integers(0, 20, 6)
    labels = {"fine_labels": fine, "coarse_labels": coarse}
    members = {"cifar-100-python/train": batch_pickle(x[:4], {k: v[:4] for k, v in
                                                              labels.items()}),
               "cifar-100-python/test": batch_pickle(x[4:], {k: v[4:] for k, v in
                                                            labels.items()})}
    archive = tmp_path / "cifar-100-python.tar.gz"
    archive.write_bytes(tar_gz(members))
    (x_train, y_train), (x_test, y_test) = cifar100.load_data(mode, path=archive)
    expected = fine if mode == "fine" else coarse
    assert y_train.dtype == np.int64 and y_train.shape == (4, 1)  # as Keras's loader
    np.testing.assert_array_equal(np.concatenate([y_train, y_test])[:, 0], expected)
    np.testing.assert_array_equal(x_test, x[4:])
    assert int(expected.max()) < classes


def test_bad_label_mode():
    with pytest.raises(ValueError, match="label_mode"):
        cifar100.load_data("medium")


def test_an_extracted_directory_and_numpy1_pickles_are_read(tmp_path, monkeypatch):
    (x, y), members = make_cifar10(seed=2)
    for name, data in members.items():
        # Pickles written by numpy 1 (as the real files) name numpy.core.multiarray.
        data = data.replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
        path = tmp_path / "data" / "cifar-10" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    monkeypatch.setenv("NUMKERAS_DATA", str(tmp_path / "data"))
    (x_train, _), _ = cifar10.load_data()
    np.testing.assert_array_equal(x_train, x[:15])


class Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_malicious_pickle_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "pwned"
    _, members = make_cifar10()
    members["cifar-10-batches-py/data_batch_3"] = pickle.dumps(
        {b"data": Exploit(marker), b"labels": [0]}, protocol=3)
    archive = tmp_path / "cifar-10-python.tar.gz"
    archive.write_bytes(tar_gz(members))
    with pytest.raises(CIFARFormatError, match="data_batch_3.*Refusing.*system"):
        cifar10.load_data(path=archive)
    assert not marker.exists()


def test_batches_of_the_wrong_shape_or_labels_are_refused(tmp_path):
    _, members = make_cifar10()
    members["cifar-10-batches-py/test_batch"] = pickle.dumps(
        {b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]})
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(tar_gz(members))
    with pytest.raises(CIFARFormatError, match=r"shape \(n, 3072\)"):
        cifar10.load_data(path=archive)
    members["cifar-10-batches-py/test_batch"] = pickle.dumps(
        {b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 10]})
    archive.write_bytes(tar_gz(members))
    with pytest.raises(CIFARFormatError, match="0-9"):
        cifar10.load_data(path=archive)


def test_traversal_names_links_and_huge_members_are_never_written_or_read(tmp_path,
                                                                          monkeypatch):
    (x, _), members = make_cifar10()
    members["../../escaped"] = b"outside"
    members["cifar-10-batches-py/../../../escaped2"] = b"outside"
    archive = tmp_path / "deep" / "cifar-10-python.tar.gz"
    archive.parent.mkdir()
    archive.write_bytes(tar_gz(members))
    (x_train, _), _ = cifar10.load_data(path=archive)  # read in memory, nothing extracted
    np.testing.assert_array_equal(x_train, x[:15])
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["cifar-10-python.tar.gz", "deep"]
    assert not (tmp_path.parent / "escaped").exists()

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        link = tarfile.TarInfo("cifar-10-batches-py/data_batch_1")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(link)
    archive.write_bytes(buffer.getvalue())
    with pytest.raises(CIFARFormatError, match="not a regular file"):
        cifar10.load_data(path=archive)

    archive.write_bytes(tar_gz(members))
    monkeypatch.setattr(_cifar, "MAX_MEMBER_BYTES", 1000)
    with pytest.raises(CIFARFormatError, match="more than any real CIFAR batch"):
        cifar10.load_data(path=archive)


def test_offline_error_says_how_to_get_the_file(tmp_path):
    from dataset_helpers import closed_port_url

    with pytest.raises(DatasetNotFoundError) as info:
        cifar10.load_data(base_url=closed_port_url(), quiet=True)
    message = str(info.value)
    assert "cifar-10-python.tar.gz" in message and "load_data(path=" in message
