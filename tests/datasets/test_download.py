"""Downloads against an HTTP server on 127.0.0.1: success, and no bad file left after a failure."""

import hashlib

import numpy as np
import pytest
from dataset_helpers import assert_arrays, closed_port_url, make_dataset, spec_for, write_dataset

from numkeras.datasets import DatasetNotFoundError, DownloadError, fashion_mnist, mnist
from numkeras.datasets.download import download

BLOB = bytes(range(256)) * 300  # 76,800 bytes, several read chunks
DIGEST = hashlib.sha256(BLOB).hexdigest()


def leftovers(directory):
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def test_good_download_shows_progress_and_lands_in_place(server, tmp_path, capsys):
    url = server.serve("files", {"blob.bin": BLOB}) + "blob.bin"
    target = tmp_path / "out" / "blob.bin"
    assert download(url, target, sha256=DIGEST.upper(), size=len(BLOB)) == target
    assert target.read_bytes() == BLOB
    assert leftovers(target.parent) == ["blob.bin"]  # no temporary file left
    err = capsys.readouterr().err
    assert f"Downloading {url} (76,800 bytes)" in err
    assert "76800/76800 [==============================]" in err and "/B" in err


def test_quiet_download_prints_nothing(server, tmp_path, capsys):
    url = server.serve("files", {"blob.bin": BLOB}, mode="no-length") + "blob.bin"
    download(url, tmp_path / "blob.bin", sha256=DIGEST, quiet=True)
    assert capsys.readouterr() == ("", "")


def test_wrong_checksum_keeps_the_old_file_and_leaves_no_temporary(server, tmp_path):
    url = server.serve("files", {"blob.bin": BLOB}) + "blob.bin"
    target = tmp_path / "blob.bin"
    target.write_bytes(b"previous version")
    with pytest.raises(DownloadError) as error:
        download(url, target, sha256="0" * 64, quiet=True)
    message = str(error.value)
    assert url in message and "SHA-256 mismatch" in message and DIGEST in message
    assert target.read_bytes() == b"previous version"
    assert leftovers(tmp_path) == ["blob.bin"]
    assert server.hits["/files/blob.bin"] == 1  # a checksum mismatch is not retried


def test_truncated_file_is_rejected(server, tmp_path):
    url = server.serve("files", {"blob.bin": BLOB[:-100]}) + "blob.bin"
    # With a Content-Length the mismatch shows before the body is read ...
    with pytest.raises(DownloadError, match="announces 76,700 bytes, expected 76,800"):
        download(url, tmp_path / "blob.bin", sha256=DIGEST, size=len(BLOB), quiet=True)
    # ... without one, after it; and with no expected size, the checksum catches it.
    server.serve("files", {"blob.bin": BLOB[:-100]}, mode="no-length")
    with pytest.raises(DownloadError, match="expected 76,800 bytes, received 76,700"):
        download(url, tmp_path / "blob.bin", sha256=DIGEST, size=len(BLOB), quiet=True)
    with pytest.raises(DownloadError, match="SHA-256 mismatch"):
        download(url, tmp_path / "blob.bin", sha256=DIGEST, quiet=True)
    assert leftovers(tmp_path) == []


def test_short_body_without_content_length_fails_the_checksum(server, tmp_path):
    url = server.serve("files", {"blob.bin": BLOB[:1000]}, mode="no-length") + "blob.bin"
    with pytest.raises(DownloadError, match="SHA-256 mismatch"):
        download(url, tmp_path / "blob.bin", sha256=DIGEST, quiet=True)
    assert leftovers(tmp_path) == []


def test_connection_dropped_mid_file_is_retried_once_then_reported(server, tmp_path, capsys):
    url = server.serve("files", {"blob.bin": BLOB}, mode="drop") + "blob.bin"
    with pytest.raises(DownloadError) as error:
        download(url, tmp_path / "blob.bin", sha256=DIGEST)
    message = str(error.value)
    assert url in message and "(tried 2 times)" in message
    assert "38,400" in message and "76,800" in message  # what arrived, what was announced
    assert server.hits["/files/blob.bin"] == 2
    assert f"Retrying {url}" in capsys.readouterr().err
    assert leftovers(tmp_path) == []


def test_http_404_is_reported_without_retry(server, tmp_path):
    url = server.url + "files/missing.bin"
    with pytest.raises(DownloadError, match=r"HTTP 404 Not Found") as error:
        download(url, tmp_path / "missing.bin", sha256=DIGEST, quiet=True)
    assert url in str(error.value)
    assert server.hits["/files/missing.bin"] == 1
    assert leftovers(tmp_path) == []


def test_timeout_is_reported(server, tmp_path):
    url = server.serve("files", {"blob.bin": BLOB}, mode="stall") + "blob.bin"
    with pytest.raises(DownloadError, match="timed out: no data for 0.3 s") as error:
        download(url, tmp_path / "blob.bin", sha256=DIGEST, timeout=0.3, retries=0, quiet=True)
    assert url in str(error.value)
    assert leftovers(tmp_path) == []


def test_refused_connection_is_reported(tmp_path):
    url = closed_port_url() + "blob.bin"
    with pytest.raises(DownloadError, match="connection failed") as error:
        download(url, tmp_path / "blob.bin", sha256=DIGEST, quiet=True)
    assert url in str(error.value) and "(tried 2 times)" in str(error.value)


def test_content_length_other_than_expected_size_fails_before_reading(server, tmp_path):
    url = server.serve("files", {"blob.bin": BLOB + b"!"}) + "blob.bin"
    with pytest.raises(DownloadError, match="announces 76,801 bytes, expected 76,800"):
        download(url, tmp_path / "blob.bin", sha256=DIGEST, size=len(BLOB), quiet=True)
    assert leftovers(tmp_path) == []


# The whole path through load_data.

def test_load_data_downloads_into_the_cache(server, cache, monkeypatch, capsys):
    arrays, blobs = make_dataset()
    monkeypatch.setattr(fashion_mnist, "SPEC", spec_for(fashion_mnist.SPEC, blobs))
    base = server.serve("mirror", blobs)
    assert_arrays(fashion_mnist.load_data(base_url=base), arrays)
    assert leftovers(cache) == sorted(blobs)
    for name, blob in blobs.items():
        assert (cache / name).read_bytes() == blob
    err = capsys.readouterr().err
    assert err.count("Downloading http://127.0.0.1") == 4 and "[======" in err
    # A second call reads the cache: no new requests.
    hits = dict(server.hits)
    assert_arrays(fashion_mnist.load_data(base_url=base), arrays)
    assert server.hits == hits


def test_numkeras_datasets_url_points_at_a_mirror_with_per_dataset_folders(server, tmp_path,
                                                                          monkeypatch):
    arrays, blobs = make_dataset(seed=3)
    monkeypatch.setattr(mnist, "SPEC", spec_for(mnist.SPEC, blobs))
    server.serve("mirror/mnist", blobs)
    monkeypatch.setenv("NUMKERAS_DATASETS_URL", server.url + "mirror")
    assert_arrays(mnist.load_data(quiet=True), arrays)
    assert leftovers(tmp_path / "numkeras_home" / "datasets" / "mnist") == sorted(blobs)


@pytest.mark.parametrize("failure", ["truncated", "checksum", "drop", "404"])
def test_failed_download_leaves_no_bad_file_in_the_cache(server, cache, monkeypatch, failure):
    arrays, blobs = make_dataset()
    monkeypatch.setattr(fashion_mnist, "SPEC", spec_for(fashion_mnist.SPEC, blobs))
    victim = "t10k-labels-idx1-ubyte.gz"  # the last one fetched: the others arrive first
    served = dict(blobs)
    mode = "ok"
    if failure == "truncated":
        served[victim] = blobs[victim][:-10]
    elif failure == "checksum":
        served[victim] = blobs[victim][:-1] + bytes([blobs[victim][-1] ^ 1])
    elif failure == "drop":
        mode = "drop"
    base = server.serve("mirror", {k: v for k, v in served.items() if k != victim})
    if failure != "404":
        server.serve("mirror", {victim: served[victim]}, mode=mode)
    with pytest.raises(DatasetNotFoundError) as error:
        fashion_mnist.load_data(base_url=base, quiet=True)
    assert base + victim in str(error.value)
    assert victim not in leftovers(cache)
    assert not [name for name in leftovers(cache) if name.endswith(".part")]
    # The good files that did arrive are kept, so the next attempt fetches only the rest.
    server.serve("mirror", {victim: blobs[victim]})
    hits = dict(server.hits)
    assert_arrays(fashion_mnist.load_data(base_url=base, quiet=True), arrays)
    fetched = {path for path in server.hits if server.hits[path] != hits.get(path)}
    assert fetched == {"/mirror/" + victim}


def test_a_cached_file_with_a_wrong_checksum_is_downloaded_again(server, cache, monkeypatch,
                                                                  capsys):
    arrays, blobs = make_dataset()
    monkeypatch.setattr(fashion_mnist, "SPEC", spec_for(fashion_mnist.SPEC, blobs))
    write_dataset(cache, blobs)
    damaged = cache / "t10k-labels-idx1-ubyte.gz"
    damaged.write_bytes(b"garbage")
    base = server.serve("mirror", blobs)
    assert_arrays(fashion_mnist.load_data(base_url=base), arrays)
    assert damaged.read_bytes() == blobs[damaged.name]
    assert set(server.hits) == {"/mirror/t10k-labels-idx1-ubyte.gz"}
    assert "does not match its SHA-256; downloading it again" in capsys.readouterr().err


def test_a_damaged_cache_file_offline_is_reported_not_read(cache, monkeypatch):
    _, blobs = make_dataset()
    monkeypatch.setattr(fashion_mnist, "SPEC", spec_for(fashion_mnist.SPEC, blobs))
    write_dataset(cache, blobs)
    (cache / "t10k-labels-idx1-ubyte.gz").write_bytes(b"garbage")
    with pytest.raises(DatasetNotFoundError,
                       match="wrong SHA-256 for t10k-labels-idx1-ubyte.gz"):
        fashion_mnist.load_data(base_url=closed_port_url(), quiet=True)


def test_download_result_is_parsed_exactly(server, monkeypatch):
    """Counts other than 60000/10000 are accepted: only structure is enforced, not size."""
    arrays, blobs = make_dataset(n_train=1, n_test=0)
    monkeypatch.setattr(fashion_mnist, "SPEC", spec_for(fashion_mnist.SPEC, blobs))
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data(
        base_url=server.serve("m", blobs), quiet=True)
    assert x_train.shape == (1, 28, 28) and x_test.shape == (0, 28, 28)
    assert y_train.shape == (1,) and y_test.shape == (0,)
    assert np.array_equal(x_train, arrays["train_images"])


@pytest.mark.parametrize("size", [len(BLOB), None])
def test_an_endless_body_is_cut_at_the_expected_size(server, tmp_path, monkeypatch, size):
    """No Content-Length and a body that never ends: reading stops one byte past the size the
    caller expects (or past MAX_UNKNOWN_SIZE when it expects none), nothing is kept."""
    from numkeras.datasets import download as download_module

    monkeypatch.setattr(download_module, "MAX_UNKNOWN_SIZE", 3 * len(BLOB))  # a fast test
    url = server.serve("files", {"blob.bin": BLOB}, mode="endless") + "blob.bin"
    with pytest.raises(DownloadError, match="sends more than the"):
        download(url, tmp_path / "blob.bin", sha256=DIGEST, size=size, quiet=True)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("url", ["htp://example.org/", "http:/example.org", "example.org",
                                 "http://example.org:99999/", "http://[::1/", "ftp://x/",
                                 "http://exa mple.org/"])
def test_a_malformed_url_is_one_clear_error(tmp_path, url):
    with pytest.raises(DownloadError, match="not a valid http://, https:// or file:// address"):
        download(url + "blob.bin", tmp_path / "blob.bin", sha256=DIGEST, quiet=True)
    with pytest.raises(DownloadError, match="base_url argument"):
        fashion_mnist.load_data(base_url=url, quiet=True)


def test_a_malformed_mirror_setting_names_the_setting(monkeypatch):
    monkeypatch.setenv("NUMKERAS_DATASETS_URL", "htp:/mirror")
    with pytest.raises(DownloadError) as error:
        fashion_mnist.load_data(quiet=True)
    assert "NUMKERAS_DATASETS_URL" in str(error.value) and "\n" not in str(error.value)
