"""The reference: the benchmark's MLPs trained by a hand-written NumPy loop with a fused Adam.

This is the honest "what plain NumPy can do" baseline of ``run.py``: no framework, no graph, no
per-step allocation of anything larger than a row of the batch. It computes exactly what the
Keras model computes (Flatten -> Dense(relu)... -> Dense(10, softmax), sparse categorical
crossentropy, Keras's Adam with its defaults, Glorot-uniform kernels and zero biases), written
as fast as NumPy allows:

- every weight and every gradient is a view into one flat float32 array, so Adam updates the
  whole model in ten whole-buffer passes (see ``_adam``) whatever the number of layers;
- activations, gradients and masks live in buffers allocated once per batch size, and every
  matrix product writes into its buffer (``out=``);
- softmax and crossentropy are fused: the gradient of the loss with respect to the logits is
  ``(softmax - onehot) / batch``, computed in place in the probabilities' buffer;
- bias gradients are a BLAS matrix-vector product with a vector of ones, not an ``axis=0``
  reduction;
- training steps of small batches run BLAS on one thread (``SINGLE_THREAD_BATCH``): waking a
  second thread for products of a few microseconds costs more than it saves, and on a busy
  machine a spinning BLAS thread makes it worse. Prediction keeps the library's default.

Run alone: ``python benchmarks/numpy_loop.py [--epochs N] [--batch-size B]`` trains the lecture's
model on Fashion-MNIST and prints the seconds per epoch and the test accuracy.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import math
import time

import numpy as np

INPUTS = 28 * 28
CLASSES = 10
SINGLE_THREAD_BATCH = 64  # training batches up to this size use one BLAS thread


def _openblas():
    """(get, set) of the thread count of the OpenBLAS NumPy loaded, or None (another BLAS)."""
    try:
        with open("/proc/self/maps", encoding="utf-8") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    except OSError:
        return None
    for path in sorted(paths):
        library = ctypes.CDLL(path)
        for suffix in ("", "64_", "_64_"):
            for prefix in ("openblas", "scipy_openblas"):
                get = getattr(library, f"{prefix}_get_num_threads{suffix}", None)
                set_ = getattr(library, f"{prefix}_set_num_threads{suffix}", None)
                if get is not None and set_ is not None:
                    return get, set_
    return None


@contextlib.contextmanager
def blas_threads(count: int | None):
    """Run the block with ``count`` OpenBLAS threads (None, or no OpenBLAS: unchanged)."""
    control = _openblas() if count is not None else None
    if control is None:
        yield
        return
    previous = control[0]()
    control[1](count)
    try:
        yield
    finally:
        control[1](previous)


class _Buffers:
    """Arrays of one batch size: activations, relu masks, gradients (allocated once)."""

    def __init__(self, batch: int, widths: list[int]):
        hidden = widths[1:-1]
        self.x = np.empty((batch, widths[0]), np.float32)            # the gathered batch
        self.h = [np.empty((batch, w), np.float32) for w in hidden]  # relu outputs
        self.mask = [np.empty((batch, w), np.bool_) for w in hidden]
        self.dh = [np.empty((batch, w), np.float32) for w in hidden]
        self.z = np.empty((batch, widths[-1]), np.float32)           # logits, then probabilities
        self.ones = np.ones(batch, np.float32)                       # bias gradients by BLAS
        self.rows = np.arange(batch)


class NumpyMLP:
    """Flatten -> [Dense(w, relu)] * len(hidden) -> Dense(10, softmax), trained with Adam.

    Args:
        hidden: the hidden layers' widths, e.g. ``(128,)`` for the lecture's model.
        seed: seeds the Glorot-uniform initial kernels.
        learning_rate, beta_1, beta_2, epsilon: Keras's Adam, with Keras's defaults.
    """

    def __init__(self, hidden=(128,), seed: int = 0, learning_rate: float = 1e-3,
                 beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7):
        self.widths = [INPUTS, *hidden, CLASSES]
        shapes = [s for fan_in, fan_out in zip(self.widths, self.widths[1:])
                  for s in ((fan_in, fan_out), (fan_out,))]
        size = sum(math.prod(s) for s in shapes)
        self.params = np.zeros(size, np.float32)
        self.grads = np.zeros(size, np.float32)
        self.kernels, self.biases, self.kernel_grads, self.bias_grads = [], [], [], []
        offset = 0
        for shape in shapes:
            end = offset + math.prod(shape)
            param, grad = self.params[offset:end].reshape(shape), self.grads[offset:end]
            grad = grad.reshape(shape)
            (self.kernels if len(shape) == 2 else self.biases).append(param)
            (self.kernel_grads if len(shape) == 2 else self.bias_grads).append(grad)
            offset = end
        rng = np.random.default_rng(seed)
        for kernel in self.kernels:
            limit = math.sqrt(6.0 / sum(kernel.shape))
            kernel[...] = rng.uniform(-limit, limit, kernel.shape)
        self.learning_rate, self.beta_1, self.beta_2 = learning_rate, beta_1, beta_2
        self.epsilon = epsilon
        # Adam's moments, kept scaled: m / (1 - beta_1) and v / (1 - beta_2) (see _adam).
        self.m = np.zeros(size, np.float32)
        self.v = np.zeros(size, np.float32)
        self.tmp = np.empty(size, np.float32)
        self.iterations = 0
        self._buffers: dict[int, _Buffers] = {}

    def _buffers_for(self, batch: int) -> _Buffers:
        buffers = self._buffers.get(batch)
        if buffers is None:
            buffers = self._buffers[batch] = _Buffers(batch, self.widths)
        return buffers

    # ----- forward -----
    def _forward(self, x: np.ndarray, buffers: _Buffers) -> np.ndarray:
        """Probabilities of ``x`` (batch, 784) in ``buffers.z``; relu outputs in ``buffers.h``."""
        a = x
        for kernel, bias, h in zip(self.kernels, self.biases, buffers.h):
            np.matmul(a, kernel, out=h)
            h += bias
            np.maximum(h, 0, out=h)
            a = h
        z = buffers.z
        np.matmul(a, self.kernels[-1], out=z)
        z += self.biases[-1]
        z -= z.max(axis=1, keepdims=True)  # softmax of shifted logits: exp cannot overflow
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)
        return z

    def predict(self, x: np.ndarray, batch_size: int = 32) -> np.ndarray:
        """Class probabilities, (n, 10) float32, computed batch by batch."""
        x = x.reshape(len(x), -1)
        out = np.empty((len(x), CLASSES), np.float32)
        for start in range(0, len(x), batch_size):
            batch = x[start:start + batch_size]
            out[start:start + len(batch)] = self._forward(batch, self._buffers_for(len(batch)))
        return out

    # ----- one training step -----
    def train_step(self, x: np.ndarray, y: np.ndarray, buffers: _Buffers) -> tuple[float, int]:
        """Forward, backward and Adam on one batch; returns (loss sum, correct predictions)."""
        batch = len(y)
        p = self._forward(x, buffers)
        rows = buffers.rows[:batch]
        picked = p[rows, y]
        loss_sum = -float(np.log(np.maximum(picked, 1e-7)).sum())  # Keras clips at epsilon
        correct = int(np.count_nonzero(p.argmax(axis=1) == y))
        # d(mean crossentropy)/d(logits) = (softmax - onehot) / batch, in place.
        p[rows, y] = picked - 1.0
        p *= 1.0 / batch
        g = p
        inputs = [x, *buffers.h]
        for layer in range(len(self.kernels) - 1, -1, -1):
            np.matmul(inputs[layer].T, g, out=self.kernel_grads[layer])
            np.matmul(buffers.ones, g, out=self.bias_grads[layer])
            if layer == 0:
                break  # no gradient for the input images
            dh = buffers.dh[layer - 1]
            np.matmul(g, self.kernels[layer].T, out=dh)
            mask = buffers.mask[layer - 1]
            np.greater(inputs[layer], 0, out=mask)
            np.multiply(dh, mask, out=dh)
            g = dh
        self._adam()
        return loss_sum, correct

    def _adam(self) -> None:
        """Keras's Adam on the whole flat buffer in ten passes.

        Keras: m += (g - m)(1 - b1); v += (g^2 - v)(1 - b2);
        p -= lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps). Keeping the moments scaled,
        M = m / (1 - b1) and V = v / (1 - b2), turns both moment updates into a scale and an add
        (M = b1 M + g, V = b2 V + g^2), and the constant factors move into one scalar step size
        and a rescaled epsilon: the same update, in ten passes instead of about fifteen.
        """
        self.iterations += 1
        t, b1, b2 = self.iterations, self.beta_1, self.beta_2
        step = (self.learning_rate * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
                * (1 - b1) / math.sqrt(1 - b2))
        eps = self.epsilon / math.sqrt(1 - b2)
        g, m, v, tmp = self.grads, self.m, self.v, self.tmp
        m *= b1
        m += g                       # M = b1 M + g
        v *= b2
        np.square(g, out=tmp)
        v += tmp                     # V = b2 V + g^2
        np.sqrt(v, out=tmp)
        tmp += eps
        np.divide(m, tmp, out=tmp)
        tmp *= step
        self.params -= tmp

    def fit_epoch(self, x: np.ndarray, y: np.ndarray, batch_size: int,
                  rng: np.random.Generator) -> tuple[float, float]:
        """One shuffled pass over ``(x, y)``; returns the epoch's mean loss and accuracy."""
        x = x.reshape(len(x), -1)
        order = rng.permutation(len(x))
        loss_sum, correct = 0.0, 0
        with blas_threads(1 if batch_size <= SINGLE_THREAD_BATCH else None):
            for start in range(0, len(x), batch_size):
                index = order[start:start + batch_size]
                buffers = self._buffers_for(len(index))
                np.take(x, index, axis=0, out=buffers.x)  # gather the batch into its buffer
                batch_loss, batch_correct = self.train_step(buffers.x, y[index], buffers)
                loss_sum += batch_loss
                correct += batch_correct
        return loss_sum / len(x), correct / len(x)

    def accuracy(self, x: np.ndarray, y: np.ndarray, batch_size: int = 1000) -> float:
        return float(np.mean(self.predict(x, batch_size).argmax(axis=1) == y))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    from numkeras.datasets import fashion_mnist

    (x, y), (x_test, y_test) = fashion_mnist.load_data()
    x = (x / np.float32(255)).astype(np.float32)
    x_test = (x_test / np.float32(255)).astype(np.float32)
    model, rng = NumpyMLP(), np.random.default_rng(0)
    for epoch in range(args.epochs):
        start = time.perf_counter()
        loss, accuracy = model.fit_epoch(x, y.astype(np.int64), args.batch_size, rng)
        print(f"epoch {epoch + 1}: {time.perf_counter() - start:.2f} s, loss {loss:.4f}, "
              f"accuracy {accuracy:.4f}")
    print(f"test accuracy {model.accuracy(x_test, y_test):.4f}")


if __name__ == "__main__":
    main()
