"""``model.summary()``: the classic tf.keras table (default) or Keras 3's box table.

The classic text is byte for byte what TF 2.0 to 2.6 print (65 columns, ``_`` rules between
rows, ``Total params: 101,770``); see shared/docs/keras-compat.md section 1.1, variant A.
"""

from __future__ import annotations

import shutil

import numpy as np


def print_summary(model, line_length=None, positions=None, print_fn=None, show_trainable=False,
                  layer_range=None, style="classic") -> None:
    """Print ``model``'s summary with ``print_fn`` (default ``print``)."""
    if style == "classic":
        _print_classic(model, line_length, positions, print_fn or print, show_trainable,
                       layer_range)
    elif style == "keras3":
        text = keras3_summary(model, line_length, positions, show_trainable, layer_range)
        if print_fn is None:
            print(text, end="")
        else:
            print_fn(text)
    else:
        raise ValueError(f"Unknown summary style {style!r}; use 'classic' or 'keras3'.")


def _rows(model, layer_range):
    rows = model.summary_rows()
    if layer_range is None:
        return rows
    if len(layer_range) != 2:
        raise ValueError(f"layer_range must be a list or tuple of length 2. Received: "
                         f"layer_range={layer_range!r}")
    names = [layer.name for layer, _ in rows]
    for name in layer_range:
        if name not in names:
            raise ValueError(f"Layer '{name}' of layer_range is not in the model; layers: {names}.")
    first, last = names.index(layer_range[0]), names.index(layer_range[1])
    return rows[first:last + 1]


def _unique(weights):
    """Each weight once (a weight shared by two layers counts once, as in Keras)."""
    return list({id(weight): weight for weight in weights}.values())


def count_weights(weights) -> int:
    return sum(int(np.prod(np.shape(weight))) for weight in _unique(weights))


def _layer_params(layer) -> str | int:
    return layer.count_params() if layer.built else "0 (unused)"


# ----- classic tf.keras (TF 2.0 - 2.6) -----


def _has_connections(model) -> bool:
    """Whether the summary needs the 'Connected to' column: a graph with branches or shared
    layers (tf.keras's and Keras 3's test)."""
    return hasattr(model, "summary_connections") and not model.is_sequential_like()


def _print_classic(model, line_length, positions, print_fn, show_trainable, layer_range):
    if not model.built:
        raise ValueError("This model has not yet been built. Build the model first by calling "
                         "`build()` or by calling the model on a batch of data.")
    connected = _has_connections(model)
    if connected:  # a graph with branches or shared layers: tf.keras's 4-column table
        line_length = line_length or 98
        positions = positions or [0.33, 0.55, 0.67, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
    else:
        line_length = line_length or 65
        positions = positions or [0.45, 0.85, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #"]
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]
    if show_trainable:
        line_length += 11
        positions = list(positions) + [line_length]
        header.append("Trainable")

    def print_row(fields):
        line = ""
        for i, field in enumerate(fields):
            if i > 0:
                line = line[:-1] + " "
            line += str(field)
            line = line[:positions[i]]
            line += " " * (positions[i] - len(line))
        print_fn(line)

    print_fn(f'Model: "{model.name}"')
    print_fn("_" * line_length)
    print_row(header)
    print_fn("=" * line_length)
    rows = _rows(model, layer_range)
    for i, (layer, shape) in enumerate(rows):
        fields = [f"{layer.name} ({type(layer).__name__})", shape, _layer_params(layer)]
        connections = model.summary_connections(layer) if connected else []
        if connected:
            fields.append(connections[0] if connections else "")
        if show_trainable:
            fields.append("Y" if layer.trainable else "N")
        print_row(fields)
        for connection in connections[1:]:  # one more line per further inbound tensor
            print_row(["", "", "", connection] + ([""] if show_trainable else []))
        print_fn("=" * line_length if i == len(rows) - 1 else "_" * line_length)
    if not rows:
        print_fn("=" * line_length)
    trainable = count_weights(model.trainable_weights)
    non_trainable = count_weights(model.non_trainable_weights)
    print_fn(f"Total params: {trainable + non_trainable:,}")
    print_fn(f"Trainable params: {trainable:,}")
    print_fn(f"Non-trainable params: {non_trainable:,}")
    print_fn("_" * line_length)


# ----- Keras 3 box table -----


def readable_size(n_bytes: float) -> str:
    """Keras 3's memory size text: ``397.54 KB``, ``0.00 B``."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n_bytes < 1024:
            return f"{n_bytes:.2f} {unit}"
        n_bytes /= 1024
    return f"{n_bytes:.2f} PB"


def _bytes(weights) -> int:
    return sum(int(np.prod(np.shape(weight))) * np.asarray(weight).dtype.itemsize
               for weight in _unique(weights))


def _column_widths(line_length: int, positions) -> list[int]:
    """Widths between the bars, padding included, as rich shrinks Keras 3's columns to fit."""
    widths, current = [], 0
    for position in positions:
        width = int(position * line_length) - current
        widths.append(width)
        current += width
    # The borders take len+1 characters: rich removes them evenly (ratio_reduce, all ratios 1,
    # Python's round-half-to-even included).
    excess, remaining = len(widths) + 1, len(widths)
    for i in range(len(widths)):
        taken = round(excess / remaining)
        widths[i] -= taken
        excess -= taken
        remaining -= 1
    return widths


def _wrap(text: str, width: int) -> list[str]:
    """Greedy word wrap; words longer than the width are folded."""
    lines, line = [], ""
    for word in text.split(" "):
        while len(word) > width:
            if line:
                lines.append(line)
                line = ""
            lines.append(word[:width])
            word = word[width:]
        candidate = f"{line} {word}" if line else word
        if len(candidate) <= width:
            line = candidate
        else:
            lines.append(line)
            line = word
    lines.append(line)
    return lines


def _box_row(cells, widths, right_aligned, bar="│") -> list[str]:
    wrapped = [_wrap(str(cell), width - 2) for cell, width in zip(cells, widths)]
    height = max(len(lines) for lines in wrapped)
    out = []
    for row in range(height):
        parts = []
        for lines, width, right in zip(wrapped, widths, right_aligned):
            text = lines[row] if row < len(lines) else ""
            parts.append(" " + (text.rjust if right else text.ljust)(width - 2) + " ")
        out.append(bar + bar.join(parts) + bar)
    return out


def _rule(widths, left, fill, middle, right) -> str:
    return left + middle.join(fill * width for width in widths) + right


def keras3_summary(model, line_length=None, positions=None, show_trainable=False,
                   layer_range=None) -> str:
    """Keras 3.15's summary table as one string (no colour), ending in a newline."""
    connected = _has_connections(model)
    default_length = 108 if connected else 88
    line_length = line_length or min(default_length, shutil.get_terminal_size().columns - 4)
    positions = list(positions or ([0.3, 0.56, 0.74, 1.0] if connected else [0.45, 0.80, 1.0]))
    header = ["Layer (type)", "Output Shape", "Param #"] + (["Connected to"] if connected else [])
    right_aligned = [False, False, True] + ([False] if connected else [])
    if show_trainable:
        line_length += 10
        positions = [p * (line_length - 10) / line_length for p in positions] + [1.0]
        header.append("Trainable")
        right_aligned.append(False)
    widths = _column_widths(line_length, positions)
    lines = [f'Model: "{model.name}"', _rule(widths, "┏", "━", "┳", "┓")]
    lines += _box_row(header, widths, right_aligned, bar="┃")
    lines.append(_rule(widths, "┡", "━", "╇", "┩"))
    rows = _rows(model, layer_range) if model.layers else []
    for i, (layer, shape) in enumerate(rows):
        built = layer.built and (layer._output_shape is not None or bool(layer._inbound_nodes))
        if isinstance(shape, list) and len(shape) == 1:  # an Input: Keras 3 shows its shape
            shape = shape[0]
        cells = [f"{layer.name} ({type(layer).__name__})", shape if built else "?",
                 f"{layer.count_params():,}" if layer.built else "0 (unbuilt)"]
        if connected:
            cells.append(", ".join(model.summary_connections(layer)) or "-")
        if show_trainable:
            cells.append("Y" if layer.trainable else "N")
        lines += _box_row(cells, widths, right_aligned)
        if i < len(rows) - 1:
            lines.append(_rule(widths, "├", "─", "┼", "┤"))
    lines.append(_rule(widths, "└", "─", "┴", "┘"))
    trainable, non_trainable = model.trainable_weights, model.non_trainable_weights
    optimizer_vars = list(getattr(model.optimizer, "variables", []) or []) \
        if getattr(model.optimizer, "built", False) else []
    counted = [(trainable + non_trainable + optimizer_vars, "Total"), (trainable, "Trainable"),
               (non_trainable, "Non-trainable")]
    if optimizer_vars:
        counted.append((optimizer_vars, "Optimizer"))
    for weights, label in counted:
        lines.append(f" {label} params: {count_weights(weights):,} "
                     f"({readable_size(_bytes(weights))})")
    return "\n".join(lines) + "\n"
