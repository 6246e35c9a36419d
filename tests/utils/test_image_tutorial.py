"""TensorFlow's "Image classification" tutorial pipeline on a small folder of Fashion-MNIST-like
PNGs: folders -> image_dataset_from_directory -> Rescaling + augmentation -> CNN -> fit with
validation -> predict one image. The tutorial's code, with its imports changed to numkeras
(and image sizes, batch size and epochs made small so the test is quick)."""

from __future__ import annotations

import numpy as np
import pytest

import numkeras as keras
import numkeras.compat.tf as tf
from numkeras import layers
from numkeras.models import Sequential
from tests.helpers import synthetic_images

Image = pytest.importorskip("PIL.Image")

CLASSES = ["bag", "sandal", "shirt"]
img_height = img_width = 28
batch_size = 8


@pytest.fixture
def data_dir(tmp_path):
    """60 PNGs, 20 per class, in one sub-folder per class (the flower_photos layout)."""
    x, y = synthetic_images(60, seed=0, classes=len(CLASSES))
    for i, (pixels, label) in enumerate(zip(x, y)):
        folder = tmp_path / "images" / CLASSES[label]
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray((pixels * 255).astype(np.uint8)).save(folder / f"{i}.png")
    return tmp_path / "images"


def datasets(data_dir):
    train_ds = tf.keras.utils.image_dataset_from_directory(
        data_dir, validation_split=0.2, subset="training", seed=123,
        image_size=(img_height, img_width), batch_size=batch_size)
    val_ds = tf.keras.utils.image_dataset_from_directory(
        data_dir, validation_split=0.2, subset="validation", seed=123,
        image_size=(img_height, img_width), batch_size=batch_size)
    return train_ds, val_ds


def tutorial_model(num_classes, rescaling=True):
    """The tutorial's model; ``rescaling=False`` leaves out its Rescaling layer, for data
    already rescaled by ``map`` (the tutorial's other way)."""
    data_augmentation = keras.Sequential([
        layers.RandomFlip("horizontal", input_shape=(img_height, img_width, 3)),
        layers.RandomRotation(0.1),
        layers.RandomZoom(0.1),
    ])
    model = Sequential([
        data_augmentation,
        *([layers.Rescaling(1. / 255)] if rescaling else []),
        layers.Conv2D(16, 3, padding='same', activation='relu'),
        layers.MaxPooling2D(),
        layers.Conv2D(32, 3, padding='same', activation='relu'),
        layers.MaxPooling2D(),
        layers.Dropout(0.2),
        layers.Flatten(),
        layers.Dense(64, activation='relu'),
        layers.Dense(num_classes, name="outputs"),
    ])
    model.compile(optimizer='adam',
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=['accuracy'])
    return model


def check_prediction(model, data_dir, class_names):
    path = next((data_dir / "shirt").iterdir())
    img = tf.keras.utils.load_img(path, target_size=(img_height, img_width))
    img_array = tf.keras.utils.img_to_array(img)
    img_array = np.expand_dims(img_array, 0)  # the tutorial's tf.expand_dims(img_array, 0)
    predictions = model.predict(img_array, verbose=0)
    score = tf.nn.softmax(predictions[0])
    assert class_names[np.argmax(score)] in CLASSES
    # (The tutorial then prints 100 * np.max(score); numkeras's Tensor does not take NumPy's
    # `out=` in max/sum yet, so the values are read as an array here.)
    probabilities = np.asarray(score)
    assert probabilities.shape == (len(class_names),)
    assert np.isclose(float(probabilities.sum()), 1.0, atol=1e-5)
    # The augmentation layers are off at inference: the same image, the same scores.
    np.testing.assert_array_equal(model.predict(img_array, verbose=0), predictions)


def test_the_folders_give_the_tutorial_datasets(data_dir):
    train_ds, val_ds = datasets(data_dir)
    assert train_ds.class_names == CLASSES
    image_batch, labels_batch = next(iter(train_ds))
    assert image_batch.shape == (batch_size, img_height, img_width, 3)
    assert image_batch.dtype == np.float32 and labels_batch.dtype == np.int32
    assert float(image_batch.max()) <= 255.0
    assert len(train_ds.file_paths) == 48 and len(val_ds.file_paths) == 12
    assert not set(train_ds.file_paths) & set(val_ds.file_paths)


def test_pipeline_trains_on_the_datasets_as_arrays(data_dir):
    keras.utils.set_random_seed(0)
    train_ds, val_ds = datasets(data_dir)
    x_train, y_train = train_ds.as_arrays()
    x_val, y_val = val_ds.as_arrays()
    model = tutorial_model(len(train_ds.class_names))
    history = model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=3,
                        batch_size=batch_size, verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert history.history["loss"][-1] < history.history["loss"][0]
    check_prediction(model, data_dir, train_ds.class_names)


def test_pipeline_trains_on_the_tf_data_pipeline(data_dir):
    """The tutorial's tf.data lines (cache, shuffle, prefetch, map) on the folder datasets,
    then ``model.fit(train_ds, validation_data=val_ds)`` as it writes it."""
    keras.utils.set_random_seed(0)
    train_ds, val_ds = datasets(data_dir)
    class_names = train_ds.class_names
    AUTOTUNE = tf.data.AUTOTUNE
    train_ds = train_ds.cache().shuffle(1000).prefetch(buffer_size=AUTOTUNE)
    val_ds = val_ds.cache().prefetch(buffer_size=AUTOTUNE)
    normalization_layer = layers.Rescaling(1. / 255)
    normalized_ds = train_ds.map(lambda x, y: (normalization_layer(x), y))
    image_batch, labels_batch = next(iter(normalized_ds))
    first_image = np.asarray(image_batch[0])  # (the tutorial: np.min/np.max of the Tensor)
    assert 0.0 <= first_image.min() <= first_image.max() <= 1.0
    model = tutorial_model(len(class_names))
    history = model.fit(train_ds, validation_data=val_ds, epochs=3, verbose=0)
    assert len(history.history["val_accuracy"]) == 3
    assert history.history["loss"][-1] < history.history["loss"][0]
    check_prediction(model, data_dir, class_names)


def test_pipeline_trains_on_the_mapped_dataset(data_dir):
    """The tutorial's other way to rescale: ``normalized_ds = train_ds.map(lambda x, y:
    (normalization_layer(x), y))``, fitted on with a model without its Rescaling layer. The
    map's function records no graph, and must leave the training step recording: it runs
    while the dataset's pass is paused (and while another pass is left partway)."""
    keras.utils.set_random_seed(0)
    train_ds, val_ds = datasets(data_dir)
    normalization_layer = layers.Rescaling(1. / 255)
    normalized_ds = train_ds.cache().shuffle(1000).map(
        lambda x, y: (normalization_layer(x), y))
    normalized_val = val_ds.map(lambda x, y: (normalization_layer(x), y))
    batches = iter(normalized_ds)
    image_batch, labels_batch = next(batches)  # a pass left paused, as the tutorial does
    assert 0.0 <= float(image_batch.numpy().min()) <= float(image_batch.numpy().max()) <= 1
    model = tutorial_model(len(train_ds.class_names), rescaling=False)
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(normalized_ds, validation_data=normalized_val, epochs=3, verbose=0)
    assert len(history.history["val_accuracy"]) == 3
    assert history.history["loss"][-1] < history.history["loss"][0]
    for after, start in zip(model.get_weights(), before):
        assert not np.array_equal(after, start)
