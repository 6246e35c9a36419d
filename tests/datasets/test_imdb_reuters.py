"""keras.datasets.imdb and reuters: verified download from a local server, Keras 3's
preprocessing (checked against Keras's own output on the same small files, made by
tests/fixtures/text/make_dataset_fixtures.py), and safe reading of the pickled .npz."""

import hashlib
import io
import json
import pathlib
import pickle
import zipfile

import numpy as np
import pytest
from dataset_helpers import closed_port_url

from numkeras.datasets import DatasetFormatError, DatasetNotFoundError, imdb, reuters
from numkeras.datasets import _sequences

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "text"
REFERENCE = json.loads((FIXTURES / "datasets_reference.json").read_text())
WORDS = json.dumps({"the": 1, "and": 2, "film": 3}).encode()


def publish(monkeypatch, server, module, data: bytes, words: bytes = WORDS, mode="ok"):
    """Serve ``data`` and ``words`` as the module's two files, with their own digests."""
    remotes = module.FILES
    monkeypatch.setattr(module, "FILES", {
        "data": _sequences.Remote(remotes["data"].name, hashlib.sha256(data).hexdigest(),
                                  len(data)),
        "word_index": _sequences.Remote(remotes["word_index"].name,
                                        hashlib.md5(words).hexdigest(), len(words), "md5")})
    return server.serve(module.DATASET, {remotes["data"].name: data,
                                         remotes["word_index"].name: words}, mode)


def assert_same(got, expected):
    (x_train, y_train), (x_test, y_test) = got
    assert x_train.dtype == object and x_train.ndim == 1
    assert [list(x) for x in x_train] == expected["x_train"]
    assert [list(x) for x in x_test] == expected["x_test"]
    assert y_train.tolist() == expected["y_train"] and y_test.tolist() == expected["y_test"]
    assert str(y_train.dtype) == expected["y_dtype"]


@pytest.mark.parametrize("module, name", [(imdb, "imdb_small.npz"),
                                          (reuters, "reuters_small.npz")])
def test_download_then_keras_preprocessing(monkeypatch, server, module, name):
    data = (FIXTURES / name).read_bytes()
    url = publish(monkeypatch, server, module, data)
    for case in REFERENCE[module.DATASET]:
        assert_same(module.load_data(**case["kwargs"], base_url=url, quiet=True), case)
    assert server.hits[f"/{module.DATASET}/{module.FILES['data'].name}"] == 1  # then cached
    assert module.get_word_index(base_url=url, quiet=True) == json.loads(WORDS)


def test_a_local_copy_is_read_without_download(tmp_path):
    copy = tmp_path / "my_imdb.npz"
    copy.write_bytes((FIXTURES / "imdb_small.npz").read_bytes())
    assert_same(imdb.load_data(path=str(copy)), REFERENCE["imdb"][0])


def test_a_wrong_file_is_refused_and_not_kept(monkeypatch, server, tmp_path):
    url = publish(monkeypatch, server, imdb, (FIXTURES / "imdb_small.npz").read_bytes())
    monkeypatch.setattr(imdb, "FILES", {**imdb.FILES, "data": _sequences.Remote(
        "imdb.npz", "0" * 64, imdb.FILES["data"].size)})
    with pytest.raises(DatasetNotFoundError, match="SHA-256 mismatch"):
        imdb.load_data(base_url=url, quiet=True)
    assert not (tmp_path / "numkeras_home" / "datasets" / "imdb" / "imdb.npz").exists()


def test_offline_error_lists_the_places_searched(monkeypatch):
    monkeypatch.setenv("NUMKERAS_DATASETS_URL", closed_port_url())
    with pytest.raises(DatasetNotFoundError, match="IMDB was not found") as error:
        imdb.load_data(quiet=True)
    assert "cache" in str(error.value) and "NUMKERAS_DATA" in str(error.value)


class Boom:
    """A pickle that would run a command when loaded."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import os

        return os.system, (f"touch {self.marker}",)


def malicious_npz(marker) -> bytes:
    payload = pickle.dumps(Boom(marker), protocol=2)
    header = {"descr": "|O", "fortran_order": False, "shape": (1,)}
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, header)
    buffer.write(payload)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("x.npy", buffer.getvalue())
        archive.writestr("y.npy", _npy(np.zeros(1, np.int64)))
    return out.getvalue()


def _npy(array) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def test_a_malicious_pickle_is_refused_not_run(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "reuters.npz"
    path.write_bytes(malicious_npz(marker))
    with pytest.raises(DatasetFormatError, match="Refusing to unpickle the global"):
        reuters.load_data(path=str(path))
    assert not marker.exists()


def test_damaged_and_foreign_files_are_clear_errors(tmp_path):
    bad = tmp_path / "imdb.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(DatasetFormatError, match="cannot be read"):
        imdb.load_data(path=str(bad))
    np.savez(bad, x=np.zeros(3))  # a Reuters-like file where IMDB is expected
    with pytest.raises(DatasetFormatError, match="lacks"):
        imdb.load_data(path=str(bad))
    with pytest.raises(DatasetNotFoundError, match="is not a file"):
        imdb.load_data(path=str(tmp_path / "nowhere" / "imdb.npz"))
    with pytest.raises(ValueError, match="num_words"):
        imdb.load_data(num_words=-1)
    with pytest.raises(ValueError, match="test_split"):
        reuters.load_data(test_split=2)


def test_maxlen_that_keeps_nothing_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="no sequence was kept"):
        imdb.load_data(path=str(FIXTURES / "imdb_small.npz"), maxlen=1)


def test_published_digests_and_labels_are_keras():
    assert imdb.FILES["data"].digest.startswith("69664113be75683a")
    assert reuters.FILES["data"].digest.startswith("d6586e694ee56d7a")
    assert imdb.FILES["word_index"] == _sequences.Remote(
        "imdb_word_index.json", "bfafd718b763782e994055a2d397834f", 1641221, "md5")
    names = reuters.get_label_names()
    assert len(names) == 46 and names[3] == "earn" and names[-1] == "lead"


def test_keras_namespace():
    import numkeras as keras

    assert keras.datasets.imdb.load_data is imdb.load_data
    assert keras.datasets.reuters.get_label_names is reuters.get_label_names
