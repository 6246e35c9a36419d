"""Functional API: graph building, shape inference, execution, nesting, feature extraction,
Sequential on the graph, deep chains and bad-input errors (issue 11).

Training with several inputs/outputs and ``compute_loss`` overrides: test_multi_output_training.
"""

import sys

import numpy as np
import pytest

import numkeras as keras
from numkeras.backprop import ops

L = keras.layers


class _TinyAdd(keras.layers.Layer):
    """Stand-in for keras.layers.Add while the merge layers are not there."""

    def call(self, inputs):
        return inputs[0] + inputs[1]

    def compute_output_shape(self, input_shape):
        return input_shape[0]


class _TinyConcatenate(keras.layers.Layer):
    def call(self, inputs):
        return ops.concatenate(*inputs, axis=-1)

    def compute_output_shape(self, input_shape):
        return input_shape[0][:-1] + (sum(shape[-1] for shape in input_shape),)


def add_layer(name=None):
    return L.Add(name=name) if hasattr(L, "Add") else _TinyAdd(name=name)


def concat_layer(name=None):
    return L.Concatenate(name=name) if hasattr(L, "Concatenate") else _TinyConcatenate(name=name)


def data(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def two_io_model():
    """tf.keras guide's two-input/two-output model (names as in tests/fixtures/functional)."""
    title = keras.Input(shape=(10,), name="title")
    body = keras.Input(shape=(20,), name="body")
    t = L.Dense(16, activation="relu", name="title_dense")(title)
    b = L.Dense(16, activation="relu", name="body_dense")(body)
    h = L.Dense(8, name="hidden")(concat_layer("concat")([t, b]))
    priority = L.Dense(1, name="priority")(h)
    department = L.Dense(3, activation="softmax", name="department")(h)
    return keras.Model([title, body], [priority, department], name="two_io")


# ----- graph building: Input and symbolic tensors -----

def test_input_shape_dtype_and_name():
    x = keras.Input(shape=(28, 28), name="pixels")
    assert isinstance(x, keras.layers.KerasTensor)
    assert x.shape == (None, 28, 28) and x.ndim == 3 and x.dtype == "float32"
    assert x.name == "pixels" and x._keras_history[0].name == "pixels"
    assert isinstance(x._keras_history[0], keras.layers.InputLayer)
    assert keras.Input((3,), batch_size=7).shape == (7, 3)
    assert keras.Input((3,), dtype="int32").dtype == "int32"
    assert keras.Input(batch_shape=(2, 5)).shape == (2, 5)
    assert keras.Input((None, 4)).shape == (None, None, 4)


def test_unnamed_inputs_get_unique_layer_names():
    a, b = keras.Input((2,)), keras.Input((2,))
    assert a._keras_history[0].name != b._keras_history[0].name


def test_symbolic_tensor_has_no_truth_value():
    with pytest.raises(TypeError, match="bool"):
        bool(keras.Input((2,)))


IMAGE = (8, 8, 3)
LAYER_CASES = [
    (lambda: L.Dense(5), (4,), (None, 5)),
    (lambda: L.Dense(5), (3, 4), (None, 3, 5)),
    (lambda: L.Conv2D(4, 3), IMAGE, (None, 6, 6, 4)),
    (lambda: L.Conv2D(4, 3, strides=2, padding="same"), IMAGE, (None, 4, 4, 4)),
    (lambda: L.Conv2DTranspose(4, 3, strides=2), IMAGE, (None, 17, 17, 4)),
    (lambda: L.Conv2DTranspose(4, 3, strides=2, padding="same", output_padding=1), IMAGE,
     (None, 16, 16, 4)),
    (lambda: L.MaxPooling2D(), IMAGE, (None, 4, 4, 3)),
    (lambda: L.AveragePooling2D(3, strides=2, padding="same"), IMAGE, (None, 4, 4, 3)),
    (lambda: L.GlobalAveragePooling2D(), IMAGE, (None, 3)),
    (lambda: L.GlobalMaxPooling2D(keepdims=True), IMAGE, (None, 1, 1, 3)),
    (lambda: L.Flatten(), IMAGE, (None, 192)),
    (lambda: L.Reshape((-1, 3)), IMAGE, (None, 64, 3)),
    (lambda: L.Reshape((4, 2)), (8,), (None, 4, 2)),
    (lambda: L.BatchNormalization(), IMAGE, (None, 8, 8, 3)),
    (lambda: L.Dropout(0.5), (4,), (None, 4)),
    (lambda: L.SpatialDropout2D(0.5), IMAGE, (None, 8, 8, 3)),
    (lambda: L.Activation("relu"), (4,), (None, 4)),
    (lambda: L.ReLU(), (4,), (None, 4)),
    (lambda: L.LeakyReLU(), (4,), (None, 4)),
    (lambda: L.ELU(), (4,), (None, 4)),
    (lambda: L.PReLU(), (4,), (None, 4)),
    (lambda: L.Softmax(), (4,), (None, 4)),
    (lambda: L.Maxout(2), (4,), (None, 2)),
    (lambda: L.UpSampling2D(), IMAGE, (None, 16, 16, 3)),
    (lambda: L.UpSampling2D((2, 3)), IMAGE, (None, 16, 24, 3)),
    (lambda: L.ZeroPadding2D(), IMAGE, (None, 10, 10, 3)),
    (lambda: L.ZeroPadding2D(((1, 2), (0, 3))), IMAGE, (None, 11, 11, 3)),
]
# Layers being added alongside the functional API: tested here once they exist.
OPTIONAL_CASES = [
    ("Cropping2D", lambda: L.Cropping2D(1), IMAGE, (None, 6, 6, 3)),
    ("RepeatVector", lambda: L.RepeatVector(3), (4,), (None, 3, 4)),
    ("Permute", lambda: L.Permute((2, 1)), (3, 4), (None, 4, 3)),
    ("Identity", lambda: L.Identity(), (4,), (None, 4)),
    ("Lambda", lambda: L.Lambda(lambda t: t * 2.0), (4,), (None, 4)),
]
LAYER_CASES += [case[1:] for case in OPTIONAL_CASES if hasattr(L, case[0])]


@pytest.mark.parametrize("make, sample_shape, expected", LAYER_CASES,
                         ids=[f"{i}" for i in range(len(LAYER_CASES))])
def test_every_layer_infers_its_output_shape_on_symbolic_tensors(make, sample_shape, expected):
    layer = make()
    y = layer(keras.Input(sample_shape))
    assert isinstance(y, keras.layers.KerasTensor)
    assert y.shape == expected and y.dtype == "float32"
    assert layer.built
    real = np.asarray(layer(data(2, *sample_shape)))  # the same layer on data agrees
    assert real.shape == (2,) + expected[1:]


def test_custom_layer_with_only_call_is_shaped_by_a_probe():
    class FirstTwo(keras.layers.Layer):
        def call(self, x):
            return ops.reshape(x, shape=(x.shape[0], -1))[:, :2]

    y = FirstTwo()(keras.Input((3, 4)))
    assert y.shape == (None, 2)


def test_custom_layer_with_weights_and_only_call_builds_on_the_symbolic_shape():
    class Scale(keras.layers.Layer):
        def build(self, input_shape):
            self.scale = self.add_weight("scale", (input_shape[-1],), "ones")

        def call(self, x):
            return x * self.scale

    layer = Scale()
    assert layer(keras.Input((3, 4))).shape == (None, 3, 4)
    assert layer.built and [w.shape for w in layer.weights] == [(4,)]


def test_custom_layer_with_compute_output_shape_is_not_run_at_graph_time():
    calls = []

    class Doubler(keras.layers.Layer):
        def call(self, x):
            calls.append(x.shape)
            return x * 2.0

        def compute_output_shape(self, input_shape):
            return input_shape

    assert Doubler()(keras.Input((3, 4))).shape == (None, 3, 4)
    assert calls == []


def test_layer_input_output_and_shapes():
    inputs = keras.Input((4,), name="inp")
    dense = L.Dense(3, name="d")
    hidden = dense(inputs)
    assert dense.input is inputs and dense.output is hidden
    assert dense.input_shape == (None, 4) and dense.output_shape == (None, 3)
    input_layer = inputs._keras_history[0]
    assert input_layer.output is inputs and input_layer.output_shape == (None, 4)
    a, b = keras.Input((2,), name="a"), keras.Input((2,), name="b")
    merge = add_layer("merge")
    merged = merge([a, b])
    assert merge.input == [a, b] and merge.output is merged
    assert merge.input_shape == [(None, 2), (None, 2)] and merge.output_shape == (None, 2)


def test_layer_never_called_symbolically_has_a_clear_output_error():
    with pytest.raises(AttributeError, match="never been called"):
        L.Dense(2).output


def test_shared_layer_output_is_its_first_call_and_shape_multiple_only_if_shapes_differ():
    shared = L.Dense(2)
    first = shared(keras.Input((3,)))
    shared(keras.Input((3,)))
    assert shared.output is first and shared.output_shape == (None, 2)
    flatten = L.Flatten(name="flat")
    flatten(keras.Input((2, 3)))
    flatten(keras.Input((4,)))
    with pytest.raises(AttributeError, match="multiple inbound nodes"):
        flatten.output_shape


# ----- the model's ends and layers -----

def test_model_inputs_outputs_names_and_layers():
    model = two_io_model()
    assert [t.shape for t in model.inputs] == [(None, 10), (None, 20)]
    assert [t.shape for t in model.outputs] == [(None, 1), (None, 3)]
    assert model.input_names == ["title", "body"]
    assert model.output_names == ["priority", "department"]
    assert model.input_shape == [(None, 10), (None, 20)]
    assert model.output_shape == [(None, 1), (None, 3)]
    # tf.keras 2.21's order for this model (tests/fixtures/functional/two_io.tfkeras.json)
    assert [layer.name for layer in model.layers] == [
        "title", "body", "title_dense", "body_dense", "concat", "hidden", "priority",
        "department"]
    assert isinstance(model.layers[0], keras.layers.InputLayer)
    assert model.count_params() == 812


def test_single_input_model_ends():
    inputs = keras.Input((4,), name="features")
    outputs = L.Dense(2, name="scores")(inputs)
    model = keras.Model(inputs, outputs, name="tiny")
    assert model.name == "tiny"
    assert model.inputs == [inputs] and model.outputs == [outputs]
    assert model.input is inputs and model.output is outputs
    assert model.input_shape == (None, 4) and model.output_shape == (None, 2)


def test_keyword_arguments_make_a_functional_model():
    inputs = keras.Input((4,))
    model = keras.Model(inputs=inputs, outputs=L.Dense(1)(inputs))
    assert model.output_shape == (None, 1)


@pytest.mark.parametrize("first, order", [
    ("long", ["i", "a", "b", "c", "d", "merge"]),
    ("short", ["i", "a", "b", "d", "c", "merge"]),
])
def test_layers_are_in_keras_topological_order(first, order):
    """Decreasing depth; ties in the order a depth-first walk from the outputs meets them
    (tf.keras's _map_graph_network)."""
    i = keras.Input((2,), name="i")
    c = L.Dense(2, name="c")(L.Dense(2, name="b")(L.Dense(2, name="a")(i)))
    d = L.Dense(2, name="d")(i)
    merged = add_layer("merge")([c, d] if first == "long" else [d, c])
    assert [layer.name for layer in keras.Model(i, merged).layers] == order


def test_get_layer_by_name_and_index():
    model = two_io_model()
    assert model.get_layer("hidden").name == "hidden"
    assert model.get_layer(index=0) is model.inputs[0]._keras_history[0]
    assert model.get_layer(index=-1).name == "department"
    with pytest.raises(ValueError, match="No such layer: missing"):
        model.get_layer("missing")
    with pytest.raises(ValueError, match="index 8"):
        model.get_layer(index=8)


# ----- execution -----

def test_execution_equals_composing_the_layers_by_hand():
    inputs = keras.Input((6,))
    d1, bn, drop, d2 = (L.Dense(5, activation="relu"), L.BatchNormalization(), L.Dropout(0.5),
                        L.Dense(3))
    model = keras.Model(inputs, d2(drop(bn(d1(inputs)))))
    x = data(7, 6)
    by_hand = np.asarray(d2(drop(bn(d1(x), training=False), training=False)))
    np.testing.assert_allclose(np.asarray(model(x)), by_hand, rtol=1e-6)
    np.testing.assert_allclose(model.predict(x, verbose=0), by_hand, rtol=1e-6)


def test_two_input_two_output_execution_by_hand():
    model = two_io_model()
    xt, xb = data(5, 10), data(5, 20, seed=1)
    layer = model.get_layer
    h = layer("hidden")(layer("concat")([layer("title_dense")(xt), layer("body_dense")(xb)]))
    expected = [np.asarray(layer("priority")(h)), np.asarray(layer("department")(h))]
    for got in (model.predict([xt, xb], verbose=0),
                [np.asarray(t) for t in model([xt, xb])],
                model.predict({"title": xt, "body": xb}, verbose=0)):
        assert isinstance(got, list) and len(got) == 2
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g, e, rtol=1e-6)


def test_dict_inputs_and_dict_outputs():
    a, b = keras.Input((3,), name="a"), keras.Input((3,), name="b")
    total = add_layer("total")([L.Dense(2, name="da")(a), L.Dense(2, name="db")(b)])
    model = keras.Model({"a": a, "b": b}, {"total": total, "a_only": L.Dense(1, name="o")(a)})
    assert model.input_names == ["a", "b"]
    xa, xb = data(4, 3), data(4, 3, seed=1)
    out = model.predict({"a": xa, "b": xb}, verbose=0)
    assert isinstance(out, dict) and set(out) == {"total", "a_only"}
    da, db, o = (model.get_layer(n) for n in ("da", "db", "o"))
    np.testing.assert_allclose(out["total"], np.asarray(da(xa)) + np.asarray(db(xb)), rtol=1e-6)
    np.testing.assert_allclose(out["a_only"], np.asarray(o(xa)), rtol=1e-6)
    called = model({"a": xa, "b": xb})
    assert isinstance(called, dict)
    np.testing.assert_allclose(np.asarray(called["total"]), out["total"], rtol=1e-6)


def test_dict_inputs_in_unsorted_key_order_reach_the_right_inputs():
    zeta, alpha = keras.Input((1,), name="zeta"), keras.Input((1,), name="alpha")
    model = keras.Model({"zeta": zeta, "alpha": alpha}, concat_layer()([zeta, alpha]))
    x = {"zeta": np.full((2, 1), 1.0, "float32"), "alpha": np.full((2, 1), 2.0, "float32")}
    np.testing.assert_array_equal(np.asarray(model(x)), [[1.0, 2.0], [1.0, 2.0]])
    np.testing.assert_array_equal(model.predict(x, verbose=0), [[1.0, 2.0], [1.0, 2.0]])


def test_output_may_be_an_input_and_an_intermediate_tensor():
    i = keras.Input((3,), name="i")
    hidden = L.Dense(2, name="h")(i)
    model = keras.Model(i, [i, hidden, L.Dense(1, name="o")(hidden)])
    x = data(4, 3)
    outs = model.predict(x, verbose=0)
    np.testing.assert_array_equal(outs[0], x)
    assert [o.shape for o in outs] == [(4, 3), (4, 2), (4, 1)]


def test_tuple_outputs_keep_their_order():
    i = keras.Input((3,))
    model = keras.Model(i, (L.Dense(1)(i), L.Dense(2)(i)))
    assert [o.shape for o in model.predict(data(4, 3), verbose=0)] == [(4, 1), (4, 2)]


def test_shared_layer_shares_weights():
    left, right = keras.Input((3,), name="left"), keras.Input((3,), name="right")
    shared = L.Dense(2, name="shared")
    model = keras.Model([left, right], add_layer("sum")([shared(left), shared(right)]))
    assert len(model.weights) == 2 and model.count_params() == 8
    assert len(shared._inbound_nodes) == 2
    xl, xr = data(5, 3), data(5, 3, seed=1)
    np.testing.assert_allclose(model.predict([xl, xr], verbose=0),
                               np.asarray(shared(xl)) + np.asarray(shared(xr)), rtol=1e-6)


def test_shared_layer_gradients_accumulate_over_its_calls():
    left, right = keras.Input((3,), name="left"), keras.Input((3,), name="right")
    shared = L.Dense(1, use_bias=False, name="shared")
    model = keras.Model([left, right], add_layer("sum")([shared(left), shared(right)]))
    model.compile(optimizer="sgd", loss="mse")
    xl, xr, y = data(6, 3), data(6, 3, seed=1), data(6, 1, seed=2)
    (grad,) = model.gradients([xl, xr], y)
    s = (xl + xr).astype(np.float64)
    w = shared.kernel.numpy().astype(np.float64)
    expected = 2.0 / len(s) * s.T @ (s @ w - y)  # d/dW mean((xl W + xr W - y)^2)
    np.testing.assert_allclose(grad, expected, rtol=1e-5, atol=1e-6)


def test_shared_layer_trains_once_per_step():
    left, right = keras.Input((3,)), keras.Input((3,))
    shared = L.Dense(1, use_bias=False)
    model = keras.Model([left, right], add_layer()([shared(left), shared(right)]))
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse")
    xl, xr, y = data(6, 3), data(6, 3, seed=1), data(6, 1, seed=2)
    (grad,) = model.gradients([xl, xr], y)
    before = shared.kernel.numpy().copy()
    model.fit([xl, xr], y, batch_size=6, epochs=1, shuffle=False, verbose=0)
    np.testing.assert_allclose(shared.kernel.numpy(), before - 0.1 * grad, rtol=1e-5, atol=1e-7)


# ----- nesting -----

def autoencoder():
    enc_in = keras.Input((6,), name="enc_in")
    encoder = keras.Model(enc_in, L.Dense(2, activation="relu", name="code")(enc_in),
                          name="encoder")
    dec_in = keras.Input((2,), name="dec_in")
    decoder = keras.Model(dec_in, L.Dense(6, name="recon")(dec_in), name="decoder")
    ae_in = keras.Input((6,), name="ae_in")
    return encoder, decoder, keras.Model(ae_in, decoder(encoder(ae_in)), name="autoencoder")


def test_nested_models_run_as_layers():
    encoder, decoder, model = autoencoder()
    assert [layer.name for layer in model.layers] == ["ae_in", "encoder", "decoder"]
    assert model.get_layer("encoder") is encoder
    assert len(model.weights) == 4 and model.output_shape == (None, 6)
    x = data(5, 6)
    np.testing.assert_allclose(
        model.predict(x, verbose=0),
        decoder.predict(encoder.predict(x, verbose=0), verbose=0), rtol=1e-6)


def test_nested_model_training_updates_the_inner_models():
    encoder, decoder, model = autoencoder()
    model.compile(optimizer="adam", loss="mse")
    x = data(16, 6)
    before = encoder.get_weights()[0].copy()
    history = model.fit(x, x, epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert not np.allclose(encoder.get_weights()[0], before)
    np.testing.assert_allclose(model.predict(x, verbose=0),
                               decoder.predict(encoder.predict(x, verbose=0), verbose=0),
                               rtol=1e-5)


def test_nested_multi_input_multi_output_model_called_twice():
    a, b = keras.Input((3,), name="na"), keras.Input((3,), name="nb")
    inner = keras.Model([a, b], [L.Dense(2, name="i1")(a), L.Dense(2, name="i2")(b)],
                        name="inner")
    x1, x2 = keras.Input((3,), name="x1"), keras.Input((3,), name="x2")
    first, second = inner([x1, x2]), inner([x2, x1])
    assert [t.shape for t in first] == [(None, 2), (None, 2)]
    model = keras.Model([x1, x2], add_layer()([first[0], second[1]]))
    assert len(model.weights) == 4  # the inner model's weights, once
    v1, v2 = data(4, 3), data(4, 3, seed=1)
    inner_first = inner.predict([v1, v2], verbose=0)
    inner_second = inner.predict([v2, v1], verbose=0)
    np.testing.assert_allclose(model.predict([v1, v2], verbose=0),
                               inner_first[0] + inner_second[1], rtol=1e-6)


def test_sequential_inside_functional_and_functional_inside_sequential():
    x = data(5, 6)
    seq = keras.Sequential([keras.Input((6,)), L.Dense(3, activation="relu"), L.Dense(2)],
                           name="seq")
    i = keras.Input((6,))
    head = L.Dense(1, name="head")
    outer = keras.Model(i, head(seq(i)))
    assert [layer.name for layer in outer.layers][1:] == ["seq", "head"]
    np.testing.assert_allclose(outer.predict(x, verbose=0),
                               np.asarray(head(seq.predict(x, verbose=0))), rtol=1e-6)

    encoder, _, _ = autoencoder()
    tail = L.Dense(1, name="tail")
    stack = keras.Sequential([keras.Input((6,)), encoder, tail])
    assert stack.output_shape == (None, 1)
    np.testing.assert_allclose(stack.predict(x, verbose=0),
                               np.asarray(tail(encoder.predict(x, verbose=0))), rtol=1e-6)


def test_unbuilt_sequential_inside_functional_builds_on_the_symbolic_input():
    seq = keras.Sequential([L.Dense(3), L.Dense(2)])
    i = keras.Input((6,))
    model = keras.Model(i, seq(i))
    assert seq.built and model.output_shape == (None, 2)
    assert model.predict(data(4, 6), verbose=0).shape == (4, 2)


# ----- feature extraction -----

def assert_features_match(model, extractor, x):
    features = extractor.predict(x, verbose=0)
    assert isinstance(features, list) and len(features) == len(model.layers)
    h = x
    for layer, feature in zip(model.layers, features):
        if not isinstance(layer, keras.layers.InputLayer):
            h = np.asarray(layer(h))
        np.testing.assert_allclose(feature, h, rtol=1e-5, atol=1e-6)


def test_feature_extraction_on_a_sequential_built_from_input():
    model = keras.Sequential([keras.Input((6,)), L.Dense(4, activation="relu"), L.Dense(3),
                              L.Dense(1)])
    assert all(isinstance(layer.output, keras.layers.KerasTensor) for layer in model.layers)
    extractor = keras.Model(model.inputs, [layer.output for layer in model.layers])
    assert_features_match(model, extractor, data(5, 6))


def test_feature_extraction_on_a_sequential_built_from_input_shape():
    model = keras.Sequential([L.Dense(4, input_shape=(6,), activation="relu"), L.Dense(3)])
    extractor = keras.Model(inputs=model.inputs,
                            outputs=[layer.output for layer in model.layers])
    assert_features_match(model, extractor, data(5, 6))


def test_feature_extraction_on_a_sequential_built_by_its_first_call():
    model = keras.Sequential([L.Dense(4), L.Dense(2)])
    model(data(2, 6))
    extractor = keras.Model(model.inputs, [layer.output for layer in model.layers])
    assert_features_match(model, extractor, data(5, 6))


def test_feature_extraction_on_a_convolutional_sequential():
    model = keras.Sequential([keras.Input((8, 8, 1)), L.Conv2D(2, 3, activation="relu"),
                              L.MaxPooling2D(), L.Flatten(), L.Dense(3)])
    extractor = keras.Model(model.inputs, [layer.output for layer in model.layers])
    assert [t.shape for t in extractor.outputs] == [(None, 6, 6, 2), (None, 3, 3, 2),
                                                    (None, 18), (None, 3)]
    assert_features_match(model, extractor, data(2, 8, 8, 1))


def test_feature_extraction_on_a_functional_model():
    i = keras.Input((6,), name="i")
    a = L.Dense(4, activation="relu", name="a")(i)
    b = L.Dense(4, name="b")(a)
    model = keras.Model(i, L.Dense(2, name="c")(add_layer("skip")([a, b])))
    extractor = keras.Model(model.inputs, [layer.output for layer in model.layers])
    assert extractor.output_names == ["i", "a", "b", "skip", "c"]
    x = data(5, 6)
    feats = extractor.predict(x, verbose=0)
    np.testing.assert_array_equal(feats[0], x)
    np.testing.assert_allclose(feats[3], feats[1] + feats[2], rtol=1e-6)
    np.testing.assert_allclose(feats[4], model.predict(x, verbose=0), rtol=1e-6)
    # and a sub-graph from an intermediate layer's output
    sub = keras.Model(model.inputs, model.get_layer("b").output)
    np.testing.assert_allclose(sub.predict(x, verbose=0), feats[2], rtol=1e-6)


# ----- deep chains: no recursion anywhere -----

def test_ten_thousand_layer_chain_builds_predicts_and_backprops():
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(3000)  # well under the chain's depth, above pytest's own frames
    try:
        inputs = keras.Input((2,))
        first = L.Dense(2, name="first")
        h = first(inputs)
        for _ in range(10_000):
            h = L.Activation("linear")(h)
        model = keras.Model(inputs, h)
        assert len(model.layers) == 10_002
        x, y = data(3, 2), data(3, 2, seed=1)
        np.testing.assert_allclose(model.predict(x, verbose=0), np.asarray(first(x)),
                                   rtol=1e-6)
        model.compile(optimizer="sgd", loss="mse")
        kernel_grad, bias_grad = model.gradients(x, y)
        short = keras.Model(inputs, first(inputs))
        short.compile(optimizer="sgd", loss="mse")
        expected = short.gradients(x, y)
        np.testing.assert_allclose(kernel_grad, expected[0], rtol=1e-5)
        np.testing.assert_allclose(bias_grad, expected[1], rtol=1e-5)
    finally:
        sys.setrecursionlimit(limit)


def test_ten_thousand_dense_chain():
    inputs = keras.Input((2,))
    h = inputs
    for _ in range(10_000):
        h = L.Dense(2, kernel_initializer="identity")(h)
    model = keras.Model(inputs, h)
    x = data(3, 2)
    np.testing.assert_allclose(model.predict(x, verbose=0), x, rtol=1e-5)
    model.compile(optimizer="sgd", loss="mse")
    grads = model.gradients(x, np.zeros_like(x))
    assert len(grads) == 20_000
    # identity layers: every kernel sees the same input and the same output gradient
    np.testing.assert_allclose(grads[0], grads[-2], rtol=1e-5)
    np.testing.assert_allclose(grads[0], 2.0 / x.size * x.T @ x, rtol=1e-5)


# ----- Sequential runs on the graph -----

def test_sequential_has_a_functional_graph_after_build():
    model = keras.Sequential([keras.Input((4,)), L.Dense(3), L.Dense(2)])
    assert isinstance(model._functional, keras.Model)
    assert isinstance(model.layers[0].output, keras.layers.KerasTensor)
    assert model.layers[0].output.shape == (None, 3)
    assert model.layers[1].input is model.layers[0].output
    assert model.output is model.layers[-1].output
    assert model.inputs[0].shape == (None, 4)
    lazy = keras.Sequential([L.Dense(3)])
    assert lazy._functional is None
    lazy(np.ones((2, 5)))
    assert isinstance(lazy._functional, keras.Model)
    assert lazy.layers[0].input.shape[1:] == (5,)  # built on a batch of 2


def one_node_each_in(model):
    nodes = model._functional._graph.nodes
    return all(len(layer._inbound_nodes) == 1 and layer._inbound_nodes[0] in nodes
               for layer in model.layers)


def test_sequential_rebuild_leaves_one_inbound_node_per_layer():
    model = keras.Sequential([keras.Input((4,)), L.Dense(3), L.Dense(2)])
    assert one_node_each_in(model)
    model.add(L.Dense(5))
    assert one_node_each_in(model) and model.output.shape == (None, 5)
    model.pop()
    assert one_node_each_in(model) and model.output.shape == (None, 2)
    model.pop()
    model.add(L.Dense(7))
    assert one_node_each_in(model) and model.output_shape == (None, 7)
    model.build((None, 4))
    assert one_node_each_in(model)
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.ones((4, 4)), np.ones((4, 7)), verbose=0)
    assert one_node_each_in(model)


def test_sequential_rebuild_keeps_a_shared_layers_nodes_in_other_graphs():
    dense = L.Dense(2)
    i = keras.Input((4,))
    elsewhere = dense(i)
    seq = keras.Sequential([keras.Input((4,)), dense])
    seq.add(L.Dense(1))
    assert len(dense._inbound_nodes) == 2 and dense.output is elsewhere
    model = keras.Model(i, elsewhere)
    np.testing.assert_allclose(model.predict(np.ones((1, 4)), verbose=0),
                               np.asarray(dense(np.ones((1, 4)))), rtol=1e-6)


def test_training_flag_reaches_every_layer_of_the_graph():
    seen = []

    class Spy(keras.layers.Layer):
        def call(self, x, training=None):
            seen.append(training)
            return x

    j = keras.Input((3,))
    nested = keras.Model(j, Spy()(j))
    i = keras.Input((3,))
    model = keras.Model(i, L.Dense(1)(Spy()(nested(i))))
    model.compile(optimizer="sgd", loss="mse")
    x, y = data(4, 3), data(4, 1)
    seen.clear()
    model.fit(x, y, batch_size=4, verbose=0)
    assert seen == [True, True]
    seen.clear()
    model.predict(x, verbose=0)
    model.evaluate(x, y, verbose=0)
    assert seen == [False] * 4
    seen.clear()
    model(x, training=True)
    assert seen == [True, True]


def test_training_argument_fixed_at_graph_time_is_kept():
    seen = []

    class Spy(keras.layers.Layer):
        def call(self, x, training=None):
            seen.append(training)
            return x

    i = keras.Input((3,))
    model = keras.Model(i, L.Dense(1)(Spy()(i, training=False)))
    model.compile(optimizer="sgd", loss="mse")
    seen.clear()
    model.fit(data(4, 3), data(4, 1), batch_size=4, verbose=0)
    assert seen == [False]


# ----- bad input: clear errors -----

def test_graph_disconnected_names_the_missing_input():
    a, b = keras.Input((3,), name="input_a"), keras.Input((3,), name="input_b")
    out = add_layer()([L.Dense(2)(a), L.Dense(2)(b)])
    with pytest.raises(ValueError, match="(?i)graph disconnected") as info:
        keras.Model(a, out)
    assert "input_b" in str(info.value)


def test_unused_input_is_refused_by_name():
    a, b = keras.Input((3,), name="used"), keras.Input((3,), name="unused")
    with pytest.raises(ValueError, match="not connected") as info:
        keras.Model([a, b], L.Dense(1)(a))
    assert "'unused'" in str(info.value)


@pytest.mark.parametrize("make, built_for, wrong", [
    (lambda: L.Dense(2, name="the_layer"), (4,), (5,)),
    (lambda: L.Conv2D(2, 3, name="the_layer"), (8, 8, 3), (8, 8, 4)),
    (lambda: L.BatchNormalization(name="the_layer"), (4,), (6,)),
])
def test_layer_called_on_a_symbolic_tensor_of_the_wrong_shape(make, built_for, wrong):
    layer = make()
    layer(keras.Input(built_for))
    with pytest.raises(ValueError) as info:
        layer(keras.Input(wrong))  # at graph-building time, not at fit
    message = str(info.value)
    assert "the_layer" in message
    assert str((None,) + wrong) in message and str(built_for[-1]) in message


def test_layer_of_the_wrong_rank_on_a_symbolic_tensor():
    with pytest.raises(ValueError, match="ndim=4") as info:
        L.Conv2D(2, 3, name="conv")(keras.Input((8,)))
    assert "conv" in str(info.value) and "(None, 8)" in str(info.value)
    with pytest.raises(ValueError, match="rr") as info:
        L.Reshape((3, 5), name="rr")(keras.Input((8,)))
    assert "(8,)" in str(info.value) and "(3, 5)" in str(info.value)


def test_functional_model_called_on_a_symbolic_tensor_of_the_wrong_shape():
    i = keras.Input((2,), name="narrow")
    model = keras.Model(i, L.Dense(1)(i), name="inner_model")
    with pytest.raises(ValueError) as info:
        model(keras.Input((3,)))
    assert "inner_model" in str(info.value) or "dense" in str(info.value)
    assert "(None, 3)" in str(info.value)


def test_custom_layer_on_a_symbolic_tensor_of_the_wrong_shape_names_the_layer():
    class Project(keras.layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight("w", (input_shape[-1], 2))

        def call(self, x):
            return ops.matmul(x, self.w)

    layer = Project(name="project")
    layer(keras.Input((4,)))
    with pytest.raises(ValueError) as info:
        layer(keras.Input((5,)))
    assert "project" in str(info.value) and "(None, 5)" in str(info.value)


def test_duplicate_layer_names_are_refused():
    i = keras.Input((2,))
    h = L.Dense(2, name="same")(L.Dense(2, name="same")(i))
    with pytest.raises(ValueError, match="same.*unique|unique.*same"):
        keras.Model(i, h)
    j = keras.Input((2,), name="clash")
    with pytest.raises(ValueError, match="clash"):
        keras.Model(j, L.Dense(2, name="clash")(j))


def test_inputs_must_come_from_keras_input():
    i = keras.Input((2,))
    h = L.Dense(2, name="middle")(i)
    with pytest.raises(ValueError, match="keras.Input.*middle"):
        keras.Model(h, L.Dense(1)(h))
    with pytest.raises(ValueError, match="outputs"):
        keras.Model(i, np.ones(3))


def test_layer_called_on_a_mix_of_symbolic_tensors_and_arrays():
    i = keras.Input((2,))
    with pytest.raises(TypeError, match="mix of symbolic tensors"):
        add_layer()([i, np.ones((1, 2), "float32")])


def test_wrong_number_of_input_arrays():
    model = two_io_model()
    xt, xb = data(4, 10), data(4, 20)
    for bad, count in (([xt], "1"), ([xt, xb, xb], "3")):
        with pytest.raises(ValueError, match=f"expects 2 input.*received {count}") as info:
            model.predict(bad, verbose=0)
        assert "title" in str(info.value) and "body" in str(info.value)
    with pytest.raises(ValueError, match="single array"):
        model.predict(xt, verbose=0)
    with pytest.raises(ValueError, match="expects 2 input"):
        model([xt])


def test_dict_keys_that_match_no_input():
    model = two_io_model()
    with pytest.raises(ValueError) as info:
        model.predict({"title": data(4, 10), "bdy": data(4, 20)}, verbose=0)
    message = str(info.value)
    assert "unknown: ['bdy']" in message and "missing: ['body']" in message


def test_data_of_the_wrong_shape_names_the_input():
    model = two_io_model()
    with pytest.raises(ValueError, match="body") as info:
        model.predict([data(4, 10), data(4, 21)], verbose=0)
    assert "(None, 20)" in str(info.value) and "(None, 21)" in str(info.value)
