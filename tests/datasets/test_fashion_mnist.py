"""Fashion-MNIST and MNIST: the real Debian files, the lookup order, and the offline error."""

import gzip
import hashlib
import shutil
import struct

import numpy as np
import pytest
from dataset_helpers import (
    DEBIAN_DIR,
    assert_arrays,
    closed_port_url,
    make_dataset,
    spec_for,
    write_dataset,
)

from numkeras.datasets import (
    DatasetNotFoundError,
    IDXFormatError,
    _loader,
    fashion_mnist,
    mnist,
    read_idx,
)

needs_debian = pytest.mark.skipif(
    not all((DEBIAN_DIR / name).is_file() for name in _loader.FILE_NAMES.values()),
    reason="Debian package dataset-fashion-mnist is not installed")

# MD5s published in zalandoresearch/fashion-mnist's README for the official files.
README_MD5 = {
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
}
# Modification times in the official files' gzip headers, which Debian's build (strip-
# nondeterminism) removed together with the file name. Found by trying the seconds around
# the dataset's release (31 August 2017) until the published SHA-256 came out.
OFFICIAL_GZIP_MTIME = {
    "train-images-idx3-ubyte.gz": 1504176606, "train-labels-idx1-ubyte.gz": 1504176606,
    "t10k-images-idx3-ubyte.gz": 1504176627, "t10k-labels-idx1-ubyte.gz": 1504176627,
}


def official_bytes(name: str) -> bytes:
    """Rebuild an official file from Debian's: same deflate stream, original gzip header."""
    debian = (DEBIAN_DIR / name).read_bytes()
    assert debian[:4] == b"\x1f\x8b\x08\x00"  # gzip, deflate, no flags (no file name)
    original_name = name.removesuffix(".gz").encode() + b"\0"
    return (b"\x1f\x8b\x08\x08" + struct.pack("<I", OFFICIAL_GZIP_MTIME[name]) + debian[8:10]
            + original_name + debian[10:])


@needs_debian
def test_debian_files_parse_to_the_documented_arrays():
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data(path=DEBIAN_DIR)
    assert (x_train.shape, x_train.dtype) == ((60000, 28, 28), np.uint8)
    assert (y_train.shape, y_train.dtype) == ((60000,), np.uint8)
    assert (x_test.shape, x_test.dtype) == ((10000, 28, 28), np.uint8)
    assert (y_test.shape, y_test.dtype) == ((10000,), np.uint8)
    assert y_train.min() == 0 and y_train.max() == 9 and y_test.max() == 9
    assert np.bincount(y_train).tolist() == [6000] * 10
    assert np.bincount(y_test).tolist() == [1000] * 10
    # Known pixel checksums; the train mean is the often quoted 0.2860 * 255.
    assert int(x_train.sum(dtype=np.int64)) == 3431114169
    assert int(x_test.sum(dtype=np.int64)) == 573469082
    assert round(float(x_train.mean()) / 255, 4) == 0.2860
    assert hashlib.sha256(x_train.tobytes()).hexdigest().startswith("2e487a6c89124f78")
    assert fashion_mnist.CLASS_NAMES[y_train[0]] == "Ankle boot"
    assert y_train[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]


@needs_debian
def test_hard_coded_digests_match_the_debian_files_and_the_official_ones():
    for remote in fashion_mnist.SPEC.files.values():
        assert hashlib.sha256((DEBIAN_DIR / remote.name).read_bytes()).hexdigest() in (
            remote.also_accepted)
        official = official_bytes(remote.name)
        assert len(official) == remote.size
        assert hashlib.sha256(official).hexdigest() == remote.sha256
        assert hashlib.md5(official).hexdigest() == README_MD5[remote.name]
        assert gzip.decompress(official) == gzip.decompress((DEBIAN_DIR / remote.name)
                                                            .read_bytes())


@needs_debian
def test_real_download_with_published_checksums(server, cache, tmp_path):
    """The unpatched SPEC end to end: official bytes served locally, verified, cached, read."""
    base = server.serve("tf-keras-datasets", {name: official_bytes(name) for name in README_MD5})
    data = fashion_mnist.load_data(base_url=base, quiet=True)
    for name, md5 in README_MD5.items():
        assert hashlib.md5((cache / name).read_bytes()).hexdigest() == md5
    expected = read_idx(DEBIAN_DIR / "t10k-images-idx3-ubyte.gz")
    np.testing.assert_array_equal(data[1][0], expected)


@needs_debian
def test_system_copy_is_found_and_can_be_copied_into_the_cache(monkeypatch, cache):
    monkeypatch.setattr(_loader, "SYSTEM_DATA_DIR", DEBIAN_DIR.parent)
    (x_train, _), _ = fashion_mnist.load_data()
    assert x_train.shape == (60000, 28, 28)
    # Debian's repacked files are accepted in the cache too (their digests are known).
    shutil.copytree(DEBIAN_DIR, cache)
    monkeypatch.setattr(_loader, "SYSTEM_DATA_DIR", cache.parent / "nowhere")
    files, source = _loader.locate(fashion_mnist.SPEC)
    assert source.startswith("cache") and files["train_images"].parent == cache


def test_class_names():
    assert fashion_mnist.CLASS_NAMES == ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    assert mnist.CLASS_NAMES == [str(d) for d in range(10)]


def test_lookup_order(tmp_path, monkeypatch, server, cache):
    """path= beats NUMKERAS_DATA beats the cache beats the system copy beats downloading."""
    datasets = {where: make_dataset(n_train=n, seed=n)
                for n, where in enumerate(["path", "env", "cache", "system", "remote"], 3)}
    write_dataset(tmp_path / "given", datasets["path"][1])
    write_dataset(tmp_path / "shared" / "fashion-mnist", datasets["env"][1])
    write_dataset(cache, datasets["cache"][1])
    write_dataset(tmp_path / "system_datasets" / "fashion-mnist", datasets["system"][1])
    # The cache is verified against SPEC, so SPEC must describe what is in the cache; the
    # "remote" copy then deliberately matches what the cache had.
    monkeypatch.setattr(fashion_mnist, "SPEC", spec_for(fashion_mnist.SPEC,
                                                        datasets["cache"][1]))
    base = server.serve("remote", datasets["cache"][1])
    monkeypatch.setenv("NUMKERAS_DATA", str(tmp_path / "shared"))

    def load(**kwargs):
        return fashion_mnist.load_data(base_url=base, quiet=True, **kwargs)

    assert_arrays(load(path=tmp_path / "given"), datasets["path"][0])
    assert_arrays(load(), datasets["env"][0])
    monkeypatch.delenv("NUMKERAS_DATA")
    assert_arrays(load(), datasets["cache"][0])
    shutil.rmtree(cache)
    assert_arrays(load(), datasets["system"][0])
    assert server.hits == {}
    shutil.rmtree(tmp_path / "system_datasets")
    assert_arrays(load(), datasets["cache"][0])  # downloaded again
    assert len(server.hits) == 4 and (cache / "t10k-labels-idx1-ubyte.gz").is_file()


def test_incomplete_places_are_skipped_and_raw_files_accepted(tmp_path, monkeypatch):
    arrays, blobs = make_dataset()
    shared = write_dataset(tmp_path / "shared" / "fashion-mnist",
                           {"train-images-idx3-ubyte.gz": blobs["train-images-idx3-ubyte.gz"]})
    monkeypatch.setenv("NUMKERAS_DATA", str(tmp_path / "shared"))
    system = tmp_path / "system_datasets" / "fashion-mnist"
    system.mkdir(parents=True)
    for name, blob in blobs.items():  # uncompressed, as torchvision keeps them
        (system / name.removesuffix(".gz")).write_bytes(gzip.decompress(blob))
    assert_arrays(fashion_mnist.load_data(), arrays)
    assert shared.is_dir()


def test_path_given_is_the_only_place_looked_at(tmp_path, cache, monkeypatch):
    _, blobs = make_dataset()
    monkeypatch.setattr(fashion_mnist, "SPEC", spec_for(fashion_mnist.SPEC, blobs))
    write_dataset(cache, blobs)  # a valid cache must not hide a wrong path=
    partial = write_dataset(tmp_path / "partial",
                            {"train-labels-idx1-ubyte.gz": blobs["train-labels-idx1-ubyte.gz"]})
    with pytest.raises(DatasetNotFoundError) as error:
        fashion_mnist.load_data(path=partial)
    message = str(error.value)
    assert str(partial) in message and "lacks train-images-idx3-ubyte.gz, " in message
    assert "train-labels" not in message.split("lacks")[1].split(".")[0]
    with pytest.raises(DatasetNotFoundError, match="does not exist"):
        fashion_mnist.load_data(path=tmp_path / "typo")
    with pytest.raises(DatasetNotFoundError, match="is a file, not a directory"):
        fashion_mnist.load_data(path=partial / "train-labels-idx1-ubyte.gz")


def test_offline_with_nothing_found_gives_one_clear_error(tmp_path, monkeypatch, cache):
    monkeypatch.setenv("NUMKERAS_DATA", str(tmp_path / "shared"))
    monkeypatch.setenv("NUMKERAS_DATASETS_URL", closed_port_url())
    with pytest.raises(DatasetNotFoundError) as error:
        fashion_mnist.load_data(quiet=True)
    message = str(error.value)
    system = tmp_path / "system_datasets" / "fashion-mnist"
    for expected in (
        "Fashion-MNIST was not found and could not be downloaded. Looked in:",
        f"$NUMKERAS_DATA/fashion-mnist ({tmp_path / 'shared' / 'fashion-mnist'}): no files",
        f"cache {cache}: no files",
        f"system copy {system} (package dataset-fashion-mnist): no files",
        "/fashion-mnist/train-images-idx3-ubyte.gz: connection failed",
        "sudo apt-get install dataset-fashion-mnist",
        "load_data(path=that_dir)",
        "set NUMKERAS_DATA=<dir>",
    ):
        assert expected in message, (expected, message)
    assert len(error.value.searched) == 4
    assert isinstance(error.value, OSError)
    assert not cache.exists() or not any(cache.iterdir())


def test_mnist_has_its_own_folder_and_no_system_copy(tmp_path, monkeypatch):
    arrays, blobs = make_dataset(seed=7)
    write_dataset(tmp_path / "shared" / "mnist", blobs)
    write_dataset(tmp_path / "system_datasets" / "fashion-mnist", make_dataset()[1])
    monkeypatch.setenv("NUMKERAS_DATA", str(tmp_path / "shared"))
    assert_arrays(mnist.load_data(), arrays)
    monkeypatch.delenv("NUMKERAS_DATA")
    with pytest.raises(DatasetNotFoundError) as error:
        mnist.load_data(base_url=closed_port_url(), quiet=True)
    message = str(error.value)
    assert "MNIST was not found" in message and "apt-get" not in message
    assert "fashion" not in message


def test_a_damaged_system_copy_is_named_with_how_to_reinstall(tmp_path):
    _, blobs = make_dataset()
    blobs["t10k-images-idx3-ubyte.gz"] = blobs["t10k-images-idx3-ubyte.gz"][:-30]
    write_dataset(tmp_path / "system_datasets" / "fashion-mnist", blobs)
    with pytest.raises(IDXFormatError) as error:
        fashion_mnist.load_data()
    message = str(error.value)
    assert "t10k-images-idx3-ubyte.gz: the gzip stream is damaged" in message
    assert "found in the system copy" in message
    assert "sudo apt-get install --reinstall dataset-fashion-mnist" in message


def test_an_unwritable_cache_is_reported_with_the_fix(tmp_path, monkeypatch, server):
    _, blobs = make_dataset()
    monkeypatch.setattr(fashion_mnist, "SPEC", spec_for(fashion_mnist.SPEC, blobs))
    blocker = tmp_path / "not_a_directory"
    blocker.write_text("a file where the cache directory should go")
    monkeypatch.setenv("NUMKERAS_HOME", str(blocker))
    with pytest.raises(DatasetNotFoundError, match="Set NUMKERAS_HOME to a writable directory"):
        fashion_mnist.load_data(base_url=server.serve("m", blobs), quiet=True)
