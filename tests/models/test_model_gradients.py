"""model.gradients: the loss's gradient on one batch, with nothing else changed."""

from __future__ import annotations

import numpy as np
import pytest

import numkeras as keras
from numkeras import callbacks, config, layers
from numkeras.models import Sequential


def linear_model(**dense_kwargs) -> Sequential:
    model = Sequential([keras.Input((3,)), layers.Dense(2, name="dense", **dense_kwargs)])
    model.compile(optimizer="adam", loss="mse")
    return model


def batch(n=5, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 3)).astype(np.float32), rng.normal(size=(n, 2)).astype(np.float32)


def test_gradients_of_mse_match_the_formula():
    model = linear_model()
    x, y = batch()
    kernel, bias = model.get_weights()
    residual = x @ kernel + bias - y  # d mean((xW + b - y)^2) = 2 residual / (n * units)
    scale = 2 / residual.size
    grads = model.gradients(x, y)
    assert [g.shape for g in grads] == [(3, 2), (2,)]
    np.testing.assert_allclose(grads[0], scale * x.T @ residual, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(grads[1], scale * residual.sum(axis=0), rtol=1e-5, atol=1e-7)


def test_regularization_is_part_of_the_loss():
    x, y = batch()
    config.set_random_seed(3)
    plain = linear_model().gradients(x, y)
    config.set_random_seed(3)
    model = linear_model(kernel_regularizer=keras.regularizers.L2(0.5))
    kernel = model.get_weights()[0]
    np.testing.assert_allclose(model.gradients(x, y)[0], plain[0] + 2 * 0.5 * kernel, rtol=1e-5)


def test_sample_weight_scales_the_gradient():
    model = linear_model()
    x, y = batch()
    once = model.gradients(x, y)
    twice = model.gradients(x, y, sample_weight=np.full(len(x), 2.0))
    for a, b in zip(once, twice):
        np.testing.assert_allclose(b, 2 * a, rtol=1e-5)


def test_nothing_changes_weights_optimizer_buffer_or_metrics():
    model = linear_model()
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    x, y = batch(16)
    model.fit(x, y, batch_size=8, verbose=0)
    weights, iterations = model.get_weights(), int(model.optimizer.iterations)
    buffer = model._parameter_buffer()
    step_grad = buffer.grad.copy()
    mae = model.metrics[1].result()
    grads = model.gradients(*batch(4, seed=1))
    assert all(np.array_equal(a, b) for a, b in zip(weights, model.get_weights()))
    assert int(model.optimizer.iterations) == iterations
    assert np.array_equal(buffer.grad, step_grad)  # the last step's gradient is still there
    assert all(np.shares_memory(w.grad, buffer.grad) for w in model.trainable_weights)
    assert model.metrics[1].result() == mae
    assert not any(np.shares_memory(g, buffer.grad) for g in grads)  # the caller's own arrays


def test_a_callback_may_call_it_during_fit_without_changing_the_run():
    class Inspector(callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.norms = []

        def on_train_batch_end(self, batch, logs=None):
            grads = self.model.gradients(*batch_data)
            self.norms.append(float(np.linalg.norm(grads[0])))

    batch_data = batch(8, seed=2)

    def run(inspect: bool):
        config.set_random_seed(5)
        model = linear_model()
        extra = [Inspector()] if inspect else []
        model.fit(*batch(32), batch_size=8, epochs=2, verbose=0, callbacks=extra)
        return model.get_weights(), extra

    plain, _ = run(False)
    inspected, (inspector,) = run(True)
    assert all(np.array_equal(a, b) for a, b in zip(plain, inspected))
    assert len(inspector.norms) == 8 and len(set(inspector.norms)) > 1


def test_inference_mode_by_default_training_mode_on_request():
    model = Sequential([keras.Input((3,)), layers.Dropout(0.5), layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = batch(64)
    first, second = model.gradients(x, y), model.gradients(x, y)
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    dropped = model.gradients(x, y, training=True)
    assert not np.allclose(dropped[0], first[0])


def test_a_frozen_layer_has_no_entry():
    model = Sequential([keras.Input((3,)), layers.Dense(4, name="frozen"), layers.Dense(2)])
    model.layers[0].trainable = False
    model.compile(optimizer="sgd", loss="mse")
    grads = model.gradients(*batch())
    assert [g.shape for g in grads] == [(4, 2), (2,)]


def test_it_needs_a_compiled_model():
    model = Sequential([keras.Input((3,)), layers.Dense(2)])
    with pytest.raises(RuntimeError, match="You must call `compile\\(\\)`"):
        model.gradients(*batch())


def test_the_docstring_example_runs():
    import doctest

    from numkeras.models.model import Model

    runner = doctest.DocTestRunner()
    for test in doctest.DocTestFinder().find(Model.gradients, "Model.gradients", globs={}):
        runner.run(test)
    assert runner.failures == 0 and runner.tries > 0
