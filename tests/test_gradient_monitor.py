"""GradientMonitor: when it samples, what it records, what reaches History, activation stats."""

from __future__ import annotations

import math

import numpy as np
import pytest

import numkeras as keras
from numkeras import callbacks, config, layers
from numkeras.models import Sequential


def small_model(activation="relu", name="hidden") -> Sequential:
    model = Sequential([keras.Input((4,)), layers.Dense(6, activation=activation, name=name),
                        layers.Dense(3, activation="softmax", name="out")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    return model


def data(n=32, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 4)).astype(np.float32), rng.integers(0, 3, n)


class Spy(callbacks.Callback):
    """Keeps, for every batch, the weights before the step and the gradients after it."""

    def __init__(self):
        super().__init__()
        self.before, self.grads, self.after = [], [], []

    def on_train_batch_begin(self, batch, logs=None):
        self.before.append([w.numpy() for w in self.model.trainable_weights])

    def on_train_batch_end(self, batch, logs=None):
        self.grads.append([w.grad.copy() for w in self.model.trainable_weights])
        self.after.append([w.numpy() for w in self.model.trainable_weights])


def norm(*arrays) -> float:
    return math.sqrt(sum(float(np.sum(np.square(a, dtype=np.float64))) for a in arrays))


# ----- when it samples -----
def test_samples_every_n_batches_and_at_the_end_of_each_epoch():
    model, monitor = small_model(), callbacks.GradientMonitor(every=3)
    model.fit(*data(40), batch_size=8, epochs=2, verbose=0, callbacks=[monitor])  # 5 steps each
    assert monitor.steps.tolist() == [0, 3, 4, 6, 9]
    assert monitor.epochs.tolist() == [0, 0, 0, 1, 1]
    assert monitor.layer_names == ["hidden", "out"]
    assert monitor.weight_names == ["hidden/kernel", "hidden/bias", "out/kernel", "out/bias"]
    assert monitor.stat("grad_norm").shape == (5, 2)
    assert monitor.stat("weight_norm", per="weight").shape == (5, 4)


def test_a_second_fit_starts_a_fresh_record():
    model, monitor = small_model(), callbacks.GradientMonitor(every=2)
    model.fit(*data(16), batch_size=8, epochs=1, verbose=0, callbacks=[monitor])
    model.fit(*data(16), batch_size=8, epochs=1, verbose=0, callbacks=[monitor])
    assert monitor.steps.tolist() == [0, 1]


# ----- what it records -----
def test_values_are_the_norms_of_the_step_s_gradient_weights_and_update():
    model, monitor, spy = small_model(), callbacks.GradientMonitor(every=2), Spy()
    model.fit(*data(32), batch_size=8, epochs=1, verbose=0, shuffle=False,
              callbacks=[monitor, spy])
    record = monitor.record
    for sample, step in enumerate(monitor.steps):
        grads, before, after = spy.grads[step], spy.before[step], spy.after[step]
        assert record["grad_norm/hidden"][sample] == pytest.approx(norm(*grads[:2]), rel=1e-5)
        assert record["grad_norm/out/bias"][sample] == pytest.approx(norm(grads[3]), rel=1e-5)
        assert record["weight_norm/out"][sample] == pytest.approx(norm(*before[2:]), rel=1e-5)
        update = norm(*(a - b for a, b in zip(after[:2], before[:2])))
        assert record["update_ratio/hidden"][sample] == pytest.approx(
            update / norm(*before[:2]), rel=1e-4)


def test_the_update_ratio_of_an_all_zero_weight_is_nan_not_a_warning():
    model, monitor = small_model(), callbacks.GradientMonitor(every=1)
    model.fit(*data(8), batch_size=8, epochs=1, verbose=0, callbacks=[monitor])
    assert math.isnan(monitor.record["update_ratio/hidden/bias"][0])  # bias starts at zeros
    assert monitor.record["update_ratio/hidden"][0] > 0  # the kernel is not zero


def test_stat_rejects_an_unknown_grouping():
    with pytest.raises(ValueError, match="`per` must be 'layer' or 'weight'"):
        callbacks.GradientMonitor().stat("grad_norm", per="unit")


# ----- what reaches History -----
def test_epoch_logs_hold_the_mean_of_the_epoch_s_samples():
    model, monitor = small_model(), callbacks.GradientMonitor(every=2)
    history = model.fit(*data(48), batch_size=8, epochs=2, verbose=0, callbacks=[monitor])
    for stat in ("grad_norm", "weight_norm", "update_ratio"):
        for layer in ("hidden", "out"):
            values = history.history[f"{stat}/{layer}"]
            per_sample = monitor.record[f"{stat}/{layer}"]
            expected = [np.mean(per_sample[monitor.epochs == epoch]) for epoch in (0, 1)]
            assert values == pytest.approx(expected)
    assert "grad_norm/hidden/kernel" not in history.history  # per weight: in the record only


def test_log_stats_limits_the_logged_keys():
    model = small_model()
    monitor = callbacks.GradientMonitor(every=2, log_stats=("grad_norm",))
    history = model.fit(*data(16), batch_size=8, verbose=0, callbacks=[monitor])
    assert sorted(history.history) == ["grad_norm/hidden", "grad_norm/out", "loss"]


def test_watching_does_not_change_training():
    def trained(with_monitor: bool):
        config.set_random_seed(7)
        model = small_model()
        extra = [callbacks.GradientMonitor(every=1, dead_relu=True, probe=data(16)[0])] \
            if with_monitor else []
        history = model.fit(*data(64), batch_size=8, epochs=2, verbose=0, callbacks=extra)
        return model.get_weights(), history.history["loss"]

    (plain, plain_loss), (watched, watched_loss) = trained(False), trained(True)
    assert all(np.array_equal(a, b) for a, b in zip(plain, watched))
    assert plain_loss == watched_loss


# ----- dead ReLU units and saturated sigmoid/tanh units -----
def test_dead_relu_fraction_counts_units_silent_on_every_probe_sample():
    model = small_model("relu")
    model.layers[0].bias.assign(np.array([-100, -100, 0, 0, 0, 0], dtype=np.float32))
    x, y = data(32)
    monitor = callbacks.GradientMonitor(every=1, dead_relu=True, probe=x[:16])
    history = model.fit(x, y, batch_size=8, verbose=0, callbacks=[monitor])
    dead = monitor.record["dead_relu/hidden"]
    assert len(dead) == 4 and dead.min() >= 2 / 6  # the two units with bias -100 never fire
    # The last sample was taken after the last step: the model as it is now.
    out = np.asarray(model.layers[0](x[:16]))
    assert dead[-1] == pytest.approx(1 - (out > 0).any(axis=0).mean())
    assert history.history["dead_relu/hidden"] == [pytest.approx(dead.mean())]
    assert "dead_relu/out" not in monitor.record  # softmax: not watched
    assert np.isnan(monitor.stat("dead_relu")[:, 1]).all()


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_saturated_fraction_of_sigmoid_and_tanh(activation):
    model = small_model(activation)
    x, y = data(32)
    model.layers[0].kernel.assign(model.layers[0].kernel.numpy() * 40)  # push into the tails
    monitor = callbacks.GradientMonitor(every=1, saturation=True, probe=x[:16])
    model.fit(x, y, batch_size=8, verbose=0, callbacks=[monitor])
    out = np.asarray(model.layers[0](x[:16]))  # after the last step, when the last sample was
    centred = 2 * out - 1 if activation == "sigmoid" else out
    saturated = monitor.record["saturated/hidden"]
    assert saturated[-1] == pytest.approx(np.mean(np.abs(centred) > 0.99))
    assert saturated.min() > 0.5


def test_activation_stats_work_on_a_subclassed_model_and_leave_its_layers_as_they_were():
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.hidden = layers.Dense(5, activation="relu")
            self.out = layers.Dense(2)

        def call(self, x):
            return self.out(self.hidden(x))

    model = Net()
    model.compile(optimizer="sgd", loss="mse")
    x = data(16)[0]
    monitor = callbacks.GradientMonitor(every=1, dead_relu=True, probe=x)
    model.fit(x, np.zeros((16, 2)), batch_size=8, verbose=0, callbacks=[monitor])
    assert len(monitor.record[f"dead_relu/{model.hidden.name}"]) == 2
    assert "call" not in vars(model.hidden) and "call" not in vars(model.out)


# ----- arguments -----
@pytest.mark.parametrize("kwargs, message", [
    ({"every": 0}, "`every` must be a positive number of batches"),
    ({"every": 2.5}, "`every` must be a positive number of batches"),
    ({"dead_relu": True}, "pass one as `probe=`"),
    ({"saturation": True}, "pass one as `probe=`"),
    ({"log_stats": ("grad_norm", "gradnorm")}, "unknown log_stats ['gradnorm']"),
])
def test_invalid_arguments_say_what_to_pass(kwargs, message):
    with pytest.raises(ValueError) as raised:
        callbacks.GradientMonitor(**kwargs)
    assert message in str(raised.value)


def test_it_is_exported_and_its_docstring_example_runs():
    import doctest

    assert keras.callbacks.GradientMonitor is callbacks.GradientMonitor
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner()
    for test in finder.find(callbacks.GradientMonitor, "GradientMonitor", globs={}):
        runner.run(test)
    assert runner.failures == 0 and runner.tries > 0
