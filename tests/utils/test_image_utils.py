"""Image files and folders, on small PNGs written by the tests (Pillow from the test extra)."""

import numpy as np
import pytest

from numkeras import utils
from numkeras.utils import image_utils

Image = pytest.importorskip("PIL.Image")


def _write_folder(root, rng, counts=(3, 5), size=(6, 8)):
    """Class folders a/, b/ of solid-colour PNGs whose red value encodes class and index."""
    for label, (name, count) in enumerate(zip(("a", "b"), counts)):
        (root / name).mkdir(parents=True)
        for i in range(count):
            pixels = np.full(size + (3,), 0, dtype=np.uint8)
            pixels[..., 0] = 100 * label + i
            pixels[..., 1] = rng.integers(0, 255)
            Image.fromarray(pixels).save(root / name / f"img_{i}.png")
    (root / "a" / "notes.txt").write_text("not an image")
    return root


def test_save_load_round_trip_and_color_modes(tmp_path, rng):
    x = rng.integers(0, 256, (5, 7, 3)).astype(np.float32)
    utils.save_img(tmp_path / "x.png", x, scale=False)
    assert [p.name for p in tmp_path.iterdir()] == ["x.png"]  # no temporary file left
    img = utils.load_img(tmp_path / "x.png")
    np.testing.assert_array_equal(utils.img_to_array(img), x)
    gray = utils.img_to_array(utils.load_img(tmp_path / "x.png", color_mode="grayscale"))
    assert gray.shape == (5, 7, 1) and gray.dtype == np.float32
    assert utils.img_to_array(utils.load_img(tmp_path / "x.png", color_mode="rgba")).shape \
        == (5, 7, 4)
    small = utils.load_img(tmp_path / "x.png", target_size=(3, 4))
    assert utils.img_to_array(small).shape == (3, 4, 3)


def test_array_to_img_scales_min_to_0_and_max_to_255():
    img = utils.array_to_img(np.array([[[-1.0], [0.0], [1.0]]]))
    np.testing.assert_array_equal(np.asarray(img), [[0, 127, 255]])
    saturated = utils.array_to_img([[[300.0]]], scale=False)
    np.testing.assert_array_equal(np.asarray(saturated), [[255]])
    with pytest.raises(ValueError, match="height, width"):
        utils.array_to_img(np.zeros((2, 2, 2)))


def test_resize_images_matches_a_hand_computed_bilinear():
    x = np.array([0.0, 3.0]).reshape(1, 1, 2, 1)
    out = image_utils.resize_images(x, 1, 4).ravel()
    np.testing.assert_allclose(out, [0.0, 0.75, 2.25, 3.0])


def test_dataset_infers_classes_batches_and_labels(tmp_path, rng):
    root = _write_folder(tmp_path / "data", rng)
    ds = utils.image_dataset_from_directory(root, image_size=(6, 8), batch_size=3,
                                            shuffle=False, verbose=False)
    assert ds.class_names == ["a", "b"] and len(ds) == 3
    batches = list(ds)
    assert [b[0].shape for b in batches] == [(3, 6, 8, 3), (3, 6, 8, 3), (2, 6, 8, 3)]
    x, y = ds.as_arrays()
    assert y.dtype == np.int32 and y.tolist() == [0, 0, 0, 1, 1, 1, 1, 1]
    np.testing.assert_array_equal(x[:, 0, 0, 0], [0, 1, 2, 100, 101, 102, 103, 104])
    cat = utils.image_dataset_from_directory(root, label_mode="categorical",
                                             image_size=(3, 4), shuffle=False, verbose=False)
    x, y = cat.as_arrays()
    assert x.shape == (8, 3, 4, 3) and y.shape == (8, 2) and y.dtype == np.float32
    binary = utils.image_dataset_from_directory(root, label_mode="binary", shuffle=False,
                                                image_size=(6, 8), verbose=False)
    assert binary.as_arrays()[1].shape == (8, 1)
    gray = utils.image_dataset_from_directory(root, color_mode="grayscale", label_mode=None,
                                              image_size=(6, 8), verbose=False)
    assert next(iter(gray)).shape == (8, 6, 8, 1)


def test_seeded_split_is_disjoint_and_repeatable(tmp_path, rng):
    root = _write_folder(tmp_path / "data", rng)
    train, val = utils.image_dataset_from_directory(
        root, validation_split=0.25, subset="both", seed=3, image_size=(6, 8), verbose=False)
    assert len(train.file_paths) == 6 and len(val.file_paths) == 2
    assert not set(train.file_paths) & set(val.file_paths)
    again = utils.image_dataset_from_directory(
        root, validation_split=0.25, subset="validation", seed=3, image_size=(6, 8),
        verbose=False)
    assert again.file_paths == val.file_paths
    x, y = train.as_arrays()
    np.testing.assert_array_equal(x[:, 0, 0, 0] >= 100, y == 1)  # labels follow the files


def test_a_model_fits_on_arrays_gathered_from_the_dataset(tmp_path, rng):
    import numkeras as keras

    root = _write_folder(tmp_path / "data", rng)
    x, y = utils.image_dataset_from_directory(root, image_size=(4, 4), seed=0,
                                              verbose=False).as_arrays()
    model = keras.Sequential([keras.Input((4, 4, 3)), keras.layers.Rescaling(1 / 255),
                              keras.layers.Flatten(), keras.layers.Dense(2)])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    history = model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    assert len(history.history["loss"]) == 2


@pytest.mark.parametrize("kwargs, error, pattern", [
    ({"validation_split": 0.2}, ValueError, "go together"),
    ({"subset": "training"}, ValueError, "go together"),
    ({"subset": "testing", "validation_split": 0.2}, ValueError, "subset"),
    ({"validation_split": 0.2, "subset": "training"}, ValueError, "seed"),
    ({"label_mode": "sparse"}, ValueError, "label_mode"),
])
def test_bad_arguments_are_refused(tmp_path, rng, kwargs, error, pattern):
    root = _write_folder(tmp_path / "data", rng)
    with pytest.raises(error, match=pattern):
        utils.image_dataset_from_directory(root, verbose=False, **kwargs)


def test_missing_or_empty_folders_say_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        utils.image_dataset_from_directory(tmp_path / "nope")
    (tmp_path / "empty" / "a").mkdir(parents=True)
    with pytest.raises(ValueError, match="No images found"):
        utils.image_dataset_from_directory(tmp_path / "empty")


def test_missing_pillow_says_what_to_install(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_pil(name, *args, **kwargs):
        if name == "PIL" or name.startswith("PIL."):
            raise ImportError("No module named 'PIL'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pil)
    with pytest.raises(ImportError, match="pip install pillow"):
        utils.load_img("anything.png")


def test_element_spec_does_not_change_the_seeded_shuffle(tmp_path):
    """Looking at the first batch (element_spec) is not a pass: the seed alone fixes the
    order of every epoch, as for numkeras.data's shuffle."""
    from PIL import Image

    for name in "ab":
        (tmp_path / name).mkdir()
        for i in range(4):
            Image.fromarray(np.full((4, 4), 10 * i, np.uint8)).save(tmp_path / name / f"{i}.png")

    def epochs(peek):
        data = utils.image_dataset_from_directory(
            tmp_path, image_size=(4, 4), batch_size=8, seed=1, color_mode="grayscale")
        if peek:
            data.element_spec
        return [next(iter(data))[1].tolist() for _ in range(2)]

    assert epochs(peek=False) == epochs(peek=True)
