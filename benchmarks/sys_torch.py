"""PyTorch eager: the same model and training loop, written by hand as a PyTorch user would.

The model is Keras's, initialised as Keras does (Glorot-uniform kernels, zero biases; for a
convolution PyTorch's fans are Keras's: channels times the kernel's area; the LSTM is
``nn.LSTM``, initialised as Keras's LSTM); the CNN runs in
PyTorch's own layout, NCHW, on views of the same images with the channel axis second; the
loss is ``CrossEntropyLoss`` on the logits (softmax applied for predictions, as the Keras model's
last layer does); Adam gets Keras's defaults (``eps=1e-7``). Like Keras's ``fit`` the loop
reshuffles every epoch and keeps the running loss and accuracy. System ``torch`` leaves
``torch.set_num_threads`` at its default, which the result reports; ``torch-1thread`` sets one
thread, since PyTorch's default threads busy-wait and collapse when the machine is shared.
"""

from __future__ import annotations

import time

from _common import (CLASSES, CNN, CNN_DENSE, CNN_DROPOUT, CNN_FILTERS, CNN_KERNEL, CNN_POOL,
                     IMAGE_SHAPE, LSTM, LSTM_UNITS, MODELS, PREDICT_BATCHES, SEED,
                     per_call_seconds)


def set_threads(count: int | None) -> None:
    """One intra-op thread for ``torch-1thread``; None leaves PyTorch's default."""
    if count is not None:
        import torch

        torch.set_num_threads(count)


def build(model_name: str):
    """The MLP of ``MODELS``, the CNN or the LSTM, without the final softmax (the loss takes
    logits)."""
    import torch
    from torch import nn

    torch.manual_seed(SEED)
    if model_name == LSTM:
        return _lstm_classifier()
    if model_name == CNN:
        layers, channels, size = [], 1, IMAGE_SHAPE[0]
        for filters in CNN_FILTERS:
            layers += [nn.Conv2d(channels, filters, CNN_KERNEL), nn.ReLU(),
                       nn.MaxPool2d(CNN_POOL)]
            channels, size = filters, (size - CNN_KERNEL + 1) // CNN_POOL
        layers += [nn.Flatten(), nn.Linear(channels * size * size, CNN_DENSE), nn.ReLU(),
                   nn.Dropout(CNN_DROPOUT)]
        width = CNN_DENSE
    else:
        layers, width = [nn.Flatten()], IMAGE_SHAPE[0] * IMAGE_SHAPE[1]
        for units in MODELS[model_name]:
            layers += [nn.Linear(width, units), nn.ReLU()]
            width = units
    layers.append(nn.Linear(width, CLASSES))
    model = nn.Sequential(*layers)
    for layer in model:
        if isinstance(layer, (nn.Linear, nn.Conv2d)):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)
    return model


def _lstm_classifier():
    """``nn.LSTM`` over the 28 rows of an image, its last ``h`` into a Linear layer; weights
    initialised as Keras's LSTM (Glorot-uniform input kernel, orthogonal recurrent kernel, zero
    biases but 1 for the forget gate: PyTorch's gate order i, f, g, o is Keras's i, f, c, o)."""
    from torch import nn

    class LSTMClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(IMAGE_SHAPE[1], LSTM_UNITS, batch_first=True)
            self.head = nn.Linear(LSTM_UNITS, CLASSES)

        def forward(self, x):
            _, (h, _) = self.lstm(x)  # h: (1, batch, units)
            return self.head(h[-1])

    model = LSTMClassifier()
    nn.init.xavier_uniform_(model.lstm.weight_ih_l0)
    nn.init.orthogonal_(model.lstm.weight_hh_l0.data.T)  # Keras: orthogonal (units, 4 units)
    nn.init.zeros_(model.lstm.bias_ih_l0)
    nn.init.zeros_(model.lstm.bias_hh_l0)
    model.lstm.bias_ih_l0.data[LSTM_UNITS:2 * LSTM_UNITS] = 1.0
    nn.init.xavier_uniform_(model.head.weight)
    nn.init.zeros_(model.head.bias)
    return model


def _images(array, model_name: str):
    """A tensor sharing the array's memory; for the CNN, NCHW with one channel."""
    import torch

    x = torch.from_numpy(array)
    return x.reshape(len(x), 1, *IMAGE_SHAPE) if model_name == CNN else x


def _threads() -> dict:
    import torch

    return {"torch_threads": torch.get_num_threads(),
            "torch_interop_threads": torch.get_num_interop_threads()}


def train(data, model_name: str, batch_size: int, epochs: int) -> dict:
    import torch

    x_np, y_np, x_test_np, y_test_np = data
    x, y = _images(x_np, model_name), torch.from_numpy(y_np)
    model = build(model_name)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(SEED)
    n, times = len(x), []
    for _ in range(epochs):
        start = time.perf_counter()
        model.train()
        order = torch.randperm(n, generator=generator)
        loss_sum = torch.zeros(())
        correct = torch.zeros((), dtype=torch.int64)
        for begin in range(0, n, batch_size):
            index = order[begin:begin + batch_size]
            x_batch, y_batch = x[index], y[index]
            logits = model(x_batch)
            loss = loss_fn(logits, y_batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                loss_sum += loss * len(index)
                correct += (logits.argmax(dim=1) == y_batch).sum()
        _ = float(loss_sum) / n, int(correct) / n  # the epoch's logs, as fit reports them
        times.append(time.perf_counter() - start)
    probabilities = _predict(model, _images(x_test_np, model_name), 1000)
    accuracy = float((probabilities.argmax(dim=1) == torch.from_numpy(y_test_np)).double().mean())
    return {"epoch_s": times, "test_acc": accuracy, **_threads()}


def _predict(model, x, batch_size: int):
    import torch

    model.eval()
    out = torch.empty((len(x), CLASSES))
    with torch.no_grad():
        for begin in range(0, len(x), batch_size):
            out[begin:begin + batch_size] = torch.softmax(model(x[begin:begin + batch_size]), 1)
    return out


def infer(data, model_name: str, budget_s: float) -> dict:
    import torch

    x_test = _images(data[2], model_name)
    one = x_test[:1]
    model = build(model_name).eval()
    result = {}
    for batch in PREDICT_BATCHES:
        seconds = per_call_seconds(lambda b=batch: _predict(model, x_test, b), budget_s)
        result[f"predict{batch}_sps"] = len(x_test) / seconds

    def call():
        with torch.no_grad():
            return torch.softmax(model(one), 1)

    result["call_us"] = per_call_seconds(call, budget_s) * 1e6
    return {**result, **_threads()}

