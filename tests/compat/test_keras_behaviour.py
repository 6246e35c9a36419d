"""Behaviours real scripts rely on, checked against Keras 3 itself (skipped without it)."""

import numpy as np
import pytest

import numkeras

keras = pytest.importorskip("keras")


def _custom_loss_model(library):
    """The 'customizing what happens in fit' guide's pattern: a subclass of Model that
    overrides compute_loss, made as `CustomLoss(inputs, outputs)` and compiled without a
    loss. The override records the keyword arguments it was called with."""

    class CustomLoss(library.Model):
        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
            self.seen = sorted(k for k, v in dict(x=x, y=y, y_pred=y_pred).items()
                               if v is not None)
            error = y_pred - y
            return (error * error).mean() if library is numkeras \
                else library.ops.mean(error * error)

    inputs = library.Input((3,), name="x")
    return CustomLoss(inputs, library.layers.Dense(1, name="d")(inputs))


def test_overridden_compute_loss_gives_the_same_loss_as_keras():
    x = np.random.default_rng(0).random((16, 3)).astype("float32")
    y = np.random.default_rng(1).random((16, 1)).astype("float32")
    theirs, ours = _custom_loss_model(keras), _custom_loss_model(numkeras)
    ours.set_weights(theirs.get_weights())
    theirs.compile(optimizer="sgd")
    ours.compile(optimizer="sgd")
    assert ours.evaluate(x, y, verbose=0) == pytest.approx(
        float(theirs.evaluate(x, y, verbose=0)), rel=1e-5)
    assert ours.seen == theirs.seen == ["x", "y", "y_pred"]
    ours.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0)
    theirs.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, np.asarray(b), atol=1e-6)
