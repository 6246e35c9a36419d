"""ONNX export: the file onnxruntime runs predicts what numkeras predicts (within 1e-5)."""

import numpy as np
import pytest

import numkeras as keras
from examples.fashion_mnist_cnn import build_model as build_cnn
from numkeras.saving.onnx_export import ExportError

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def run_onnx(path, feeds: dict) -> list:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


def export_and_run(model, tmp_path, *arrays, **kwargs):
    path = tmp_path / "model.onnx"
    model.export(path, format="onnx", **kwargs)
    # The graph's declared shapes agree with what ONNX infers for every operator.
    onnx.shape_inference.infer_shapes(onnx.load(str(path)), check_type=True, strict_mode=True)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    return session.run(None, dict(zip(names, arrays))), session


def assert_matches(model, tmp_path, *arrays, atol=1e-5):
    outputs, session = export_and_run(model, tmp_path, *arrays)
    expected = model.predict(arrays[0] if len(arrays) == 1 else list(arrays), verbose=0)
    expected = expected if isinstance(expected, list) else [expected]
    assert len(outputs) == len(expected)
    for got, want in zip(outputs, expected):
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, atol=atol, rtol=1e-5)
    return session


def images(n, shape=(28, 28, 1), seed=0):
    return np.random.default_rng(seed).random((n,) + shape, dtype=np.float32)


def test_lecture_model_matches_and_batch_is_dynamic(tmp_path):
    model = keras.Sequential([keras.layers.Flatten(input_shape=(28, 28)),
                              keras.layers.Dense(128, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    session = assert_matches(model, tmp_path, images(5, (28, 28)))
    assert session.get_inputs()[0].shape == ["batch", 28, 28]
    assert session.get_outputs()[0].shape == ["batch", 10]
    # Another batch size runs on the same file.
    out = session.run(None, {session.get_inputs()[0].name: images(1, (28, 28), 1)})[0]
    np.testing.assert_allclose(out, model.predict(images(1, (28, 28), 1), verbose=0), atol=1e-5)


def test_trained_cnn_matches(tmp_path):
    keras.utils.set_random_seed(0)
    model = build_cnn()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = images(32)
    model.fit(x, np.arange(32) % 10, epochs=1, batch_size=16, verbose=0)
    assert_matches(model, tmp_path, images(6, seed=3))


def test_functional_two_inputs_with_merges(tmp_path):
    image = keras.Input((8, 8, 3), name="image")
    meta = keras.Input((5,), name="meta")
    x = keras.layers.Rescaling(1 / 255.0, offset=-0.5)(image)
    x = keras.layers.ZeroPadding2D(((1, 0), (2, 1)))(x)
    x = keras.layers.Conv2D(4, 3, strides=2, padding="same", activation="tanh")(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.AveragePooling2D(padding="same")(x)
    a = keras.layers.GlobalAveragePooling2D()(x)
    b = keras.layers.GlobalMaxPooling2D()(x)
    m = keras.layers.Dense(4, activation="sigmoid")(meta)
    merged = keras.layers.Concatenate()([keras.layers.Add()([a, b]),
                                         keras.layers.Multiply()([a, m])])
    merged = keras.layers.Dropout(0.3)(merged)
    out1 = keras.layers.Dense(3, name="scores")(merged)
    out2 = keras.layers.Softmax(name="probs")(keras.layers.Dense(2)(merged))
    model = keras.Model([image, meta], [out1, out2])
    bn = [layer for layer in model.layers
          if isinstance(layer, keras.layers.BatchNormalization)][0]
    rng = np.random.default_rng(1)
    bn.moving_mean.assign(rng.normal(size=4).astype(np.float32))
    bn.moving_variance.assign(rng.uniform(0.5, 2, size=4).astype(np.float32))
    x_image = rng.uniform(0, 255, (4, 8, 8, 3)).astype(np.float32)
    x_meta = rng.normal(size=(4, 5)).astype(np.float32)
    session = assert_matches(model, tmp_path, x_image, x_meta)
    assert [i.name for i in session.get_inputs()] == ["image", "meta"]
    assert [o.name for o in session.get_outputs()] == ["scores", "probs"]


@pytest.mark.parametrize("layers", [
    [keras.layers.Reshape((4, 3)), keras.layers.Permute((2, 1)), keras.layers.Flatten()],
    [keras.layers.Reshape((2, -1)), keras.layers.LayerNormalization(),
     keras.layers.Activation("gelu"), keras.layers.Flatten()],
    [keras.layers.Dense(6, activation="elu"), keras.layers.ReLU(max_value=1.0,
                                                                 negative_slope=0.1,
                                                                 threshold=0.2),
     keras.layers.LeakyReLU(), keras.layers.PReLU(), keras.layers.ELU(0.5),
     keras.layers.Activation("swish"), keras.layers.Activation("hard_sigmoid"),
     keras.layers.Activation("selu"), keras.layers.Activation("log_softmax")],
    [keras.layers.RepeatVector(3), keras.layers.Conv1D(4, 2, padding="causal",
                                                       activation="relu6"),
     keras.layers.MaxPooling1D(padding="same"), keras.layers.GlobalAveragePooling1D()],
])
def test_other_layers_match(tmp_path, layers):
    model = keras.Sequential([keras.Input((12,))] + layers)
    for weight in model.weights:  # non-trivial PReLU/LayerNorm weights
        weight.assign(np.random.default_rng(2).normal(size=weight.shape).astype(np.float32))
    assert_matches(model, tmp_path, np.random.default_rng(0).normal(size=(3, 12))
                   .astype(np.float32))


def test_image_layers_match(tmp_path):
    model = keras.Sequential([
        keras.Input((9, 6, 2)), keras.layers.RandomFlip(), keras.layers.CenterCrop(7, 6),
        keras.layers.Cropping2D(((1, 0), (0, 2))),
        keras.layers.UpSampling2D((2, 1)),
        keras.layers.Conv2D(3, (3, 2), dilation_rate=2, padding="same", use_bias=False),
        keras.layers.MaxPooling2D(padding="same", strides=(1, 2)),
        keras.layers.GlobalAveragePooling2D(keepdims=True)])
    assert_matches(model, tmp_path, images(2, (9, 6, 2)))


def test_embedding_and_normalization(tmp_path):
    tokens = keras.Input((5,), dtype="int32", name="tokens")
    x = keras.layers.Embedding(10, 4)(tokens)
    norm = keras.layers.Normalization()
    norm.adapt(np.random.default_rng(0).normal(2.0, 3.0, size=(20, 5, 4)))
    x = keras.layers.Flatten()(norm(x))
    model = keras.Model(tokens, x)
    ids = np.random.default_rng(1).integers(0, 10, size=(3, 5)).astype(np.int32)
    assert_matches(model, tmp_path, ids)


def test_nested_model_is_inlined(tmp_path):
    inner = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="relu")],
                             name="inner")
    inputs = keras.Input((4,))
    outputs = keras.layers.Dense(2)(inner(inputs))
    model = keras.Model(inputs, outputs)
    assert_matches(model, tmp_path, np.ones((2, 4), np.float32))


def test_unsupported_layer_is_named(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Lambda(lambda x: x * 2,
                                                                     name="doubler")])
    with pytest.raises(ExportError, match=r"'doubler' \(Lambda\)"):
        model.export(tmp_path / "m.onnx", format="onnx")
    assert not (tmp_path / "m.onnx").exists()


def test_a_subclass_of_a_supported_layer_is_refused(tmp_path):
    class Doubled(keras.layers.Dense):  # its own call: converting it as Dense would be wrong
        def call(self, inputs):
            return super().call(inputs) * 2

    model = keras.Sequential([keras.Input((3,)), Doubled(2, name="twice")])
    with pytest.raises(ExportError, match=r"'twice' \(Doubled\)"):
        model.export(tmp_path / "m.onnx", format="onnx")


def test_unsupported_activation_and_subclassed_model(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation=np.abs,
                                                                    name="odd")])
    with pytest.raises(ExportError, match="'odd' \\(Dense\\).*activation"):
        model.export(tmp_path / "m.onnx", format="onnx")

    class Sub(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(1)

        def call(self, x):
            return self.dense(x)

    sub = Sub()
    sub(np.ones((1, 2)))
    with pytest.raises(ExportError, match="subclassed"):
        sub.export(tmp_path / "s.onnx", format="onnx")


def test_other_formats_and_bad_opset_are_refused(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="format='onnx'"):
        model.export(tmp_path / "saved")
    with pytest.raises(ValueError, match="opset_version"):
        model.export(tmp_path / "m.onnx", format="onnx", opset_version=9)


def test_newer_opset_also_runs(tmp_path):
    model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.GlobalMaxPooling2D(),
                              keras.layers.Dense(2)])
    outputs, _ = export_and_run(model, tmp_path, images(2, (4, 4, 1)), opset_version=18)
    np.testing.assert_allclose(outputs[0], model.predict(images(2, (4, 4, 1)), verbose=0),
                               atol=1e-5)


@pytest.mark.parametrize("kwargs", [
    dict(strides=2, padding="same"), dict(strides=2, padding="valid"),
    dict(strides=3, padding="valid", kernel_size=2), dict(strides=2, padding="same",
                                                          output_padding=1),
    dict(strides=(1, 2), padding="same", dilation_rate=1, kernel_size=(2, 3)),
    dict(strides=1, padding="same", dilation_rate=2),
])
def test_conv2d_transpose_matches(tmp_path, kwargs):
    options = {"kernel_size": 3, "activation": "relu", **kwargs}
    model = keras.Sequential([keras.Input((5, 4, 2)), keras.layers.Conv2DTranspose(3, **options)])
    model.layers[0].bias.assign(np.random.default_rng(5).normal(size=3).astype(np.float32))
    assert_matches(model, tmp_path, images(2, (5, 4, 2)))


def test_missing_onnx_says_what_to_install(monkeypatch, tmp_path):
    import builtins

    real_import = builtins.__import__

    def no_onnx(name, *args, **kwargs):
        if name == "onnx":
            raise ImportError("No module named 'onnx'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_onnx)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    with pytest.raises(ImportError, match=r"pip install onnx"):
        model.export(tmp_path / "m.onnx", format="onnx")


# ----- float64 models: every value, constant, input and output in float64 -----

@pytest.fixture
def float64():
    keras.config.set_floatx("float64")
    yield
    keras.config.set_floatx("float32")


def test_float64_model_runs_end_to_end_in_float64(tmp_path, float64):
    model = keras.Sequential([
        keras.Input((6,)), keras.layers.Rescaling(0.5, offset=0.1),
        keras.layers.Dense(8, activation="gelu"), keras.layers.LayerNormalization(),
        keras.layers.BatchNormalization(), keras.layers.Dense(8, activation="elu"),
        keras.layers.Activation("selu"), keras.layers.ELU(0.7), keras.layers.Activation("celu"),
        keras.layers.Activation("softplus"), keras.layers.Activation("softsign"),
        keras.layers.Activation("hard_sigmoid"), keras.layers.LeakyReLU(),
        keras.layers.Dense(3, activation="softmax")])
    rng = np.random.default_rng(0)
    for weight in model.weights:  # moving statistics and gammas away from 0 and 1
        weight.assign(rng.uniform(0.5, 1.5, size=weight.shape) * rng.choice([-1, 1]))
    x = rng.normal(scale=3.0, size=(5, 6))  # float64; gelu's left tail included
    outputs, session = export_and_run(model, tmp_path, x)
    assert session.get_inputs()[0].type == session.get_outputs()[0].type == "tensor(double)"
    proto = onnx.load(str(tmp_path / "model.onnx"))
    float32 = onnx.TensorProto.FLOAT
    assert not [i.name for i in proto.graph.initializer if i.data_type == float32]
    assert outputs[0].dtype == np.float64
    np.testing.assert_allclose(outputs[0], model.predict(x, verbose=0), atol=1e-10, rtol=0)


def test_float64_merges_and_float32_input(tmp_path):
    # Layers built in float64 behind a float32 Input: the file casts the input once, as
    # numkeras does on entry.
    a = keras.Input((4,), dtype="float32", name="a")
    b = keras.Input((4,), dtype="float32", name="b")
    dense = keras.layers.Dense(4, activation="tanh", dtype="float64")
    merged = keras.layers.Average(dtype="float64")([dense(a), dense(b)])
    model = keras.Model([a, b], keras.layers.Dense(2, dtype="float64")(merged))
    xa, xb = (np.random.default_rng(s).normal(size=(3, 4)).astype(np.float32) for s in (1, 2))
    outputs, session = export_and_run(model, tmp_path, xa, xb)
    assert session.get_inputs()[0].type == "tensor(float)"
    assert session.get_outputs()[0].type == "tensor(double)"
    np.testing.assert_allclose(outputs[0], model.predict([xa, xb], verbose=0), atol=1e-10)


def test_mixed_float_types_are_refused_naming_the_layer(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="single"),
                              keras.layers.Dense(2, dtype="float64", name="double")])
    with pytest.raises(ExportError, match=r"'double' \(Dense\) computes in float64.*'single'"):
        model.export(tmp_path / "m.onnx", format="onnx")
    assert not (tmp_path / "m.onnx").exists()


def test_float64_convolution_is_refused_naming_the_layer(tmp_path, float64):
    model = keras.Sequential([keras.Input((5, 5, 1)), keras.layers.Conv2D(2, 3, name="conv")])
    with pytest.raises(ExportError, match=r"'conv' \(Conv2D\).*float64.*Conv\b"):
        model.export(tmp_path / "m.onnx", format="onnx")


@pytest.mark.parametrize("shape, size", [((8, 8, 3), (4, 6)), ((3, 5, 1), (4, 6)),
                                         ((10, 4, 2), (4, 6)), ((7, 9, 1), (3, 3)),
                                         ((4, 6, 2), (4, 6)), ((6, 6, 1), (6, 3))])
def test_random_crop_exports_its_inference_crop_and_resize(tmp_path, shape, size):
    model = keras.Sequential([keras.Input(shape), keras.layers.RandomCrop(*size, name="crop")])
    x = np.random.default_rng(0).uniform(0, 255, (3,) + shape).astype(np.float32)
    assert_matches(model, tmp_path, x, atol=1e-4)  # pixels in [0, 255]


def test_random_crop_needs_a_known_image_size(tmp_path):
    model = keras.Sequential([keras.Input((None, None, 3)),
                              keras.layers.RandomCrop(2, 2, name="crop")])
    with pytest.raises(ExportError, match=r"'crop' \(RandomCrop\).*fixed image height"):
        model.export(tmp_path / "m.onnx", format="onnx")


def test_float64_random_crop_that_resizes_is_refused(tmp_path, float64):
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.RandomCrop(4, 6, name="crop")])
    with pytest.raises(ExportError, match=r"'crop' \(RandomCrop\).*float64.*Resize"):
        model.export(tmp_path / "m.onnx", format="onnx")
    # The centred 8x6 window of an 8x12 image is already the target: a Slice, no Resize.
    exact = keras.Sequential([keras.Input((8, 12, 1)), keras.layers.RandomCrop(8, 6)])
    x = np.random.default_rng(0).normal(size=(2, 8, 12, 1))
    outputs, _ = export_and_run(exact, tmp_path, x)  # a plain centred slice runs in float64
    np.testing.assert_allclose(outputs[0], exact.predict(x, verbose=0), atol=1e-10)
