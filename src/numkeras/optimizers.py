"""Optimizers with Keras 3's names, defaults, update rules, configs and saved-variable order.

Each optimizer keeps every slot kind (Adam's ``momentum``, ``velocity`` ...) as ONE flat array
laid out like the model's :class:`~numkeras.backprop.ParameterBuffer`, with per-variable views
into it. So the same ``update_step`` runs either once over the whole flat buffer (the training
step's fast path, :meth:`Optimizer.apply_buffer`) or once per variable (the general Keras path,
:meth:`Optimizer.apply`), and both give the same weights.

>>> import numpy as np
>>> from numkeras.backprop import ParameterBuffer, Variable
>>> w = Variable(np.array([1.0, 2.0], np.float32), name="kernel")
>>> b = Variable(np.array([0.5], np.float32), name="bias")
>>> buffer = ParameterBuffer([w, b])
>>> buffer.grad[:] = [1.0, -1.0, 2.0]          # what backward() leaves in the buffer
>>> opt = Adam(learning_rate=0.1)
>>> opt.apply_buffer(buffer)
>>> w.data.round(4), b.data.round(4), opt.iterations   # Adam's first step: about lr per weight
(array([0.9, 2.1], dtype=float32), array([0.4], dtype=float32), 1)

Update steps work in place with ``out=`` on arrays preallocated by :meth:`Optimizer.build`, so a
step allocates nothing; each ``update_step`` notes how many passes over the parameters it makes.
Scalars (bias corrections, learning rate) are computed in float64 and applied as float32, so
results match Keras's float32 arithmetic to float32 rounding.
"""

from __future__ import annotations

import inspect
import math
import numbers
import re
import warnings

import numpy as np

from numkeras import config
from numkeras import optimizers_schedules as schedules
from numkeras.backprop import kernels
from numkeras.backprop.tensor import Tensor
from numkeras.utils import naming
from numkeras.utils.registry import lookup, serialize_object

__all__ = [
    "SGD",
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "Nadam",
    "Optimizer",
    "RMSprop",
    "Slots",
    "deserialize",
    "get",
    "schedules",
    "serialize",
]


def _f32(value) -> float:
    """``value`` rounded to float32, as a Python float (what a Keras float32 variable holds)."""
    return float(np.float32(value))


def _real(name: str, value, low: float | None = None, high: float | None = None,
          allow_none: bool = False) -> float | None:
    """``value`` as a float after checking it is a number within [low, high] that the float
    type of the weights can hold (1e300 would be inf in float32, and then every update too).

    >>> _real("epsilon", 1e300, 0.0)
    Traceback (most recent call last):
    ...
    ValueError: Argument `epsilon` must be a finite number that float32 can hold (at most \
3.4e+38). Received: epsilon=1e+300
    """
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
        raise ValueError(f"Argument `{name}` must be a number. Received: {name}={value!r}")
    _check_representable(name, value)
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"in [{low}, {high}]" if high is not None else f">= {low}"
        raise ValueError(f"Argument `{name}` must be {bounds}. Received: {name}={value!r}")
    return float(value)


def _check_representable(name: str, value) -> None:
    """A finite ``value`` that stays finite in ``config.floatx()``, else a ValueError."""
    dtype = np.dtype(config.floatx())
    largest = float(np.finfo(dtype).max)
    if not math.isfinite(value) or abs(value) > largest:
        raise ValueError(f"Argument `{name}` must be a finite number that {dtype.name} can "
                         f"hold (at most {largest:.2g}). Received: {name}={value!r}")


def _positive(name: str, value) -> float | None:
    if value is None:
        return None
    value = _real(name, value)
    if value <= 0:
        raise ValueError(f"Argument `{name}` must be > 0 (or None to disable it). "
                         f"Received: {name}={value!r}")
    return value


def _squared_norm(array: np.ndarray) -> float:
    flat = array.reshape(-1)
    return float(np.dot(flat, flat))


class Slots(dict):
    """One variable's (or the whole buffer's) slot arrays by name, plus ``scratch``: a tuple of
    preallocated temporaries of the same shape that ``update_step`` may overwrite freely.

    >>> slots = Slots(momentum=np.zeros(3, np.float32))
    >>> slots.scratch = (np.empty(3, np.float32),)
    >>> sorted(slots), len(slots.scratch)
    (['momentum'], 1)
    """

    __slots__ = ("scratch",)


class Optimizer:
    """Base class: a subclass implements ``build`` (declaring its slots) and ``update_step``.

    Args:
        learning_rate: a float, a :class:`schedules.LearningRateSchedule` (evaluated at
            ``iterations`` each step) or a callable taking no arguments. Keras 2's ``lr=`` is
            accepted as the same thing.
        weight_decay: decoupled weight decay: before each step ``w -= w * weight_decay * lr``.
        clipnorm: clip each variable's gradient to this L2 norm.
        clipvalue: clip each gradient element to [-clipvalue, clipvalue].
        global_clipnorm: clip all gradients together to this global L2 norm.
        use_ema, ema_momentum, ema_overwrite_frequency, loss_scale_factor,
        gradient_accumulation_steps: Keras 3 options kept for config compatibility; the
            features themselves are not implemented, so enabling one raises ``ValueError``.
        name: defaults to a unique snake_case name (``adam``, ``adam_1``, ``rm_sprop``).

    A subclass declares slots in ``build`` and updates arrays in place in ``update_step``:

    >>> class SignSGD(Optimizer):
    ...     def update_step(self, grad, value, slots, lr):
    ...         step = slots.scratch[0]
    ...         np.sign(grad, out=step)
    ...         step *= lr
    ...         value -= step
    >>> from numkeras.backprop import Variable
    >>> w = Variable(np.array([1.0, -1.0], np.float32))
    >>> SignSGD(learning_rate=0.5).apply([np.array([3.0, -2.0], np.float32)], [w])
    >>> w.data
    array([ 0.5, -0.5], dtype=float32)
    """

    # How many flat temporaries update_step needs (allocated once by build).
    scratch_count = 1

    def __init__(self, learning_rate, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        learning_rate = self._keras2_arguments(learning_rate, kwargs)
        if use_ema:
            raise ValueError(
                "use_ema=True (keeping a moving average of the weights) is not implemented in "
                "numkeras. Received: use_ema=True. Pass use_ema=False, or average the weights "
                "yourself in a callback."
            )
        if loss_scale_factor is not None:
            raise ValueError(
                "loss_scale_factor (loss scaling for mixed precision) is not implemented in "
                f"numkeras, which trains in float32. Received: loss_scale_factor="
                f"{loss_scale_factor!r}. Pass loss_scale_factor=None."
            )
        if gradient_accumulation_steps is not None:
            raise ValueError(
                "gradient_accumulation_steps is not implemented in numkeras. Received: "
                f"gradient_accumulation_steps={gradient_accumulation_steps!r}. Pass None and "
                "use a larger batch_size instead."
            )
        clips = {"clipnorm": clipnorm, "clipvalue": clipvalue, "global_clipnorm": global_clipnorm}
        if sum(value is not None for value in clips.values()) > 1:
            raise ValueError(
                "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. Received: "
                + ", ".join(f"{k}={v}" for k, v in clips.items())
            )
        self.name = name if name is not None else naming.unique_name(
            naming.to_snake_case(type(self).__name__))
        self.weight_decay = _real("weight_decay", weight_decay, 0.0, allow_none=True)
        self.clipnorm = _positive("clipnorm", clipnorm)
        self.clipvalue = _positive("clipvalue", clipvalue)
        self.global_clipnorm = _positive("global_clipnorm", global_clipnorm)
        self.use_ema = False
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = None
        self.gradient_accumulation_steps = None

        # The two variables every Keras optimizer saves first: iteration and learning_rate.
        self._iterations = np.zeros((), dtype=np.int64)
        self._lr = np.zeros((), dtype=config.floatx())
        self._schedule = None
        self.learning_rate = learning_rate

        self.built = False
        self._variables: list = []
        self._slot_variables: list[np.ndarray] = []
        self._slot_names: list[str] = []
        self._exclude_ids: set[int] = set()
        self._exclude_pattern = None
        self._buffer = None

    def _keras2_arguments(self, learning_rate, kwargs: dict):
        """Accept Keras 2's ``lr=`` and harmless legacy keys; reject what would change results."""
        if "lr" in kwargs:
            lr = kwargs.pop("lr")
            parameter = inspect.signature(type(self).__init__).parameters.get("learning_rate")
            default = parameter.default if parameter is not None else inspect.Parameter.empty
            if learning_rate is not default and learning_rate != lr:
                raise ValueError(
                    "Pass the learning rate once: `lr` is Keras 2's name for `learning_rate`. "
                    f"Received: learning_rate={learning_rate!r}, lr={lr!r}."
                )
            learning_rate = lr
        decay = kwargs.pop("decay", None)
        if decay:  # Keras 2 configs carry "decay": 0.0, which means no decay.
            raise ValueError(
                f"Argument `decay` (Keras 2's per-step learning rate decay) is not supported. "
                f"Received: decay={decay!r}. Use a schedule with the same effect: learning_rate="
                f"numkeras.optimizers.schedules.InverseTimeDecay({learning_rate!r}, "
                f"decay_steps=1, decay_rate={decay!r})."
            )
        # tf.keras 2.11+ writes these into configs; neither changes the arithmetic here.
        kwargs.pop("jit_compile", None)
        kwargs.pop("is_legacy_optimizer", None)
        if kwargs:
            raise ValueError(
                f"Argument(s) not recognized by {type(self).__name__}: {kwargs}. See "
                f"help(numkeras.optimizers.{type(self).__name__}) for the accepted arguments."
            )
        return learning_rate

    # ----- state: iterations, learning rate, variables -----
    @property
    def iterations(self) -> int:
        """How many updates have been applied (Keras's ``iteration`` variable)."""
        return int(self._iterations)

    @property
    def learning_rate(self) -> float:
        """The rate the next step uses, float32-rounded (a schedule is evaluated at
        ``iterations``). Settable to a float (replacing any schedule), a schedule or a callable.

        >>> opt = SGD()
        >>> opt.learning_rate
        0.009999999776482582
        >>> opt.learning_rate = 0.5
        >>> opt.learning_rate
        0.5
        """
        schedule = self._schedule
        if schedule is None:
            return float(self._lr)
        with np.errstate(over="ignore"):  # an overflow is reported below
            if isinstance(schedule, schedules.LearningRateSchedule):
                rate = schedule(int(self._iterations))
            else:
                rate = schedule()
            value = _f32(rate)
        if not math.isfinite(value) or value < 0:
            raise ValueError(
                f"The learning rate schedule {schedule!r} of optimizer '{self.name}' returned "
                f"{rate!r} at iteration {int(self._iterations)}; a learning rate must be a "
                f"non-negative number that float32 can hold. Fix the schedule's parameters.")
        return value

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        if isinstance(value, Tensor):
            value = value.data
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value.item()
        if isinstance(value, schedules.LearningRateSchedule) or callable(value):
            self._schedule = value
            return
        if isinstance(value, bool) or not isinstance(value, numbers.Real) \
                or not math.isfinite(value) or value < 0:
            raise ValueError(
                "Argument `learning_rate` should be a non-negative float, a LearningRateSchedule "
                f"or a callable returning the rate. Received: learning_rate={value!r}"
            )
        if value > float(np.finfo(self._lr.dtype).max):  # would be stored as inf
            raise ValueError(
                f"Argument `learning_rate` must be a number that {self._lr.dtype.name} can hold "
                f"(at most {float(np.finfo(self._lr.dtype).max):.2g}); such a rate would make "
                f"every weight inf or NaN at the first step. Received: learning_rate={value!r}"
            )
        if self._schedule is not None:
            # A float replaces the schedule; Keras then tracks a learning_rate variable again.
            self._schedule = None
            self._lr = np.zeros((), dtype=self._lr.dtype)
        self._lr[()] = value

    @property
    def lr(self) -> float:
        """Keras 2's name for :attr:`learning_rate`."""
        return self.learning_rate

    @lr.setter
    def lr(self, value) -> None:
        self.learning_rate = value

    @property
    def variables(self) -> list[np.ndarray]:
        """The optimizer state in Keras's saved order, as arrays (views, not copies).

        ``[iteration (int64, 0-d), learning_rate (float32, 0-d), then each built variable's
        slots]``. As in Keras, ``learning_rate`` is absent while a schedule or callable sets
        the rate, and slots appear only once the optimizer is built.

        >>> [v.shape for v in Adam().variables]
        [(), ()]
        """
        head = [self._iterations] if self._schedule is not None else [self._iterations, self._lr]
        return head + self._slot_variables

    def _variable_names(self) -> list[str]:
        head = ["iteration"] if self._schedule is not None else ["iteration", "learning_rate"]
        return head + self._slot_names

    def get_weights(self) -> list[np.ndarray]:
        """Copies of :attr:`variables`."""
        return [np.array(v, copy=True) for v in self.variables]

    def set_weights(self, weights) -> None:
        """Same as :meth:`load_own_variables`."""
        self.load_own_variables(weights)

    def save_own_variables(self, store) -> None:
        """Write :attr:`variables` into ``store["0"]``, ``store["1"]`` ... (Keras's layout)."""
        for i, value in enumerate(self.variables):
            store[str(i)] = np.array(value, copy=True)

    def load_own_variables(self, store) -> None:
        """Restore the state from a list of arrays or a ``{"0": ..., "1": ...}`` store.

        Counts and shapes are all checked before anything is written. Build the optimizer
        first (``optimizer.build(model.trainable_variables)``) to restore its slots.

        >>> opt = SGD(momentum=0.9)
        >>> opt.load_own_variables([np.array(7), np.array(0.5, np.float32)])
        >>> opt.iterations, opt.learning_rate
        (7, 0.5)
        """
        if hasattr(store, "keys"):
            values = [store[key] for key in sorted(store.keys(), key=int)]
        else:
            values = list(store)
        targets, names = self.variables, self._variable_names()
        if len(values) != len(targets):
            hint = ""
            if not self.built and len(values) > len(targets):
                hint = (" The optimizer has not been built yet, so it has no slot variables: "
                        "call `optimizer.build(model.trainable_variables)` first.")
            listed = f" ({', '.join(names)})" if len(names) <= 12 else ""
            raise ValueError(f"Optimizer '{self.name}' has {len(targets)} variables{listed} but "
                             f"{len(values)} values were given.{hint}")
        arrays = [np.asarray(v.data if isinstance(v, Tensor) else v) for v in values]
        for i, (target, array, name) in enumerate(zip(targets, arrays, names)):
            if array.shape != target.shape:
                raise ValueError(
                    f"Optimizer '{self.name}' variable {i} ({name}) has shape {target.shape}, "
                    f"but the value given has shape {array.shape}."
                )
        for target, array in zip(targets, arrays):
            np.copyto(target, array, casting="unsafe")

    # ----- building: flat slot arrays, per-variable views, scratch -----
    def build(self, variables) -> None:
        """Create the optimizer state for ``variables`` (fresh state if called again).

        Subclasses call ``super().build(variables)`` and then :meth:`add_slots`. ``apply`` and
        ``apply_buffer`` build on first use; build explicitly before loading saved state.

        >>> from numkeras.backprop import Variable
        >>> opt = SGD(momentum=0.9)
        >>> opt.build([Variable(np.zeros((2, 2), np.float32)), Variable(np.zeros(2, np.float32))])
        >>> [v.shape for v in opt.variables]
        [(), (), (2, 2), (2,)]
        """
        variables = list(variables)
        dtypes = {np.dtype(v.data.dtype) for v in variables} or {np.dtype(config.floatx())}
        if len(dtypes) != 1 or not np.issubdtype(next(iter(dtypes)), np.floating):
            raise ValueError(
                f"Optimizer '{self.name}' needs variables of one floating dtype, got "
                f"{sorted(map(str, dtypes))}. Cast them (e.g. to float32) before training."
            )
        self._dtype = dtypes.pop()
        self._variables = variables
        self._index = {id(v): i for i, v in enumerate(variables)}
        sizes = [v.data.size for v in variables]
        self._offsets = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)]).astype(np.int64)
        self._size = int(self._offsets[-1])
        scratch = tuple(np.empty(self._size, self._dtype) for _ in range(self.scratch_count))
        self._flat_slots = Slots()
        self._flat_slots.scratch = scratch
        self._var_slots = []
        per_variable = list(zip(*(self._views(s) for s in scratch))) or [()] * len(variables)
        for views in per_variable:
            slots = Slots()
            slots.scratch = tuple(views)
            self._var_slots.append(slots)
        self._slot_variables, self._slot_names = [], []
        self._clip_flat_out, self._clip_views = None, None
        self._decayed = [self._use_weight_decay(v) for v in variables]
        self._buffer = None
        self.built = True

    def _views(self, flat: np.ndarray) -> list[np.ndarray]:
        return [flat[start:end].reshape(v.data.shape) for v, start, end
                in zip(self._variables, self._offsets[:-1], self._offsets[1:])]

    def add_slots(self, names, initial_value: float = 0.0) -> None:
        """Create one flat slot array per name, filled with ``initial_value``.

        For the saved order, the names of one call are interleaved per variable (Adam's
        ``momentum, velocity`` of the kernel, then of the bias ...); later calls come after.
        """
        if not self.built:
            raise ValueError("Call `super().build(variables)` before `add_slots`.")
        names = (names,) if isinstance(names, str) else tuple(names)
        views = {}
        for name in names:
            flat = np.full(self._size, initial_value, dtype=self._dtype)
            self._flat_slots[name] = flat
            views[name] = self._views(flat)
            for slots, view in zip(self._var_slots, views[name]):
                slots[name] = view
        for i, variable in enumerate(self._variables):
            path = str(getattr(variable, "path", getattr(variable, "name", f"variable_{i}")))
            for name in names:
                self._slot_variables.append(views[name][i])
                self._slot_names.append(f"{path.replace('/', '_')}_{name}")

    def add_scalar(self, name: str, initial_value: float) -> np.ndarray:
        """A 0-d state array saved after the slots (Nadam's running product)."""
        value = np.full((), initial_value, dtype=self._dtype)
        self._slot_variables.append(value)
        self._slot_names.append(name)
        return value

    def exclude_from_weight_decay(self, var_list=None, var_names=None) -> None:
        """Skip weight decay for these variables, or for variables whose name contains one of
        ``var_names`` (e.g. ``["bias"]``). Call before the optimizer is built."""
        if self.built:
            raise ValueError("`exclude_from_weight_decay()` can only be called before the "
                             "optimizer is built.")
        self._exclude_ids = {id(v) for v in var_list or ()}
        names = [re.escape(n) for n in var_names or ()]
        self._exclude_pattern = re.compile("|".join(names)) if names else None

    def _use_weight_decay(self, variable) -> bool:
        if id(variable) in self._exclude_ids:
            return False
        pattern = self._exclude_pattern
        return pattern is None or pattern.search(str(getattr(variable, "name", ""))) is None

    # ----- the update -----
    def update_step(self, grad: np.ndarray, value: np.ndarray, slots: Slots, lr: float) -> None:
        """Update ``value`` in place from ``grad``, using and updating ``slots``.

        ``grad``, ``value`` and every slot have the same shape: one variable, or the whole flat
        buffer. ``grad`` must not be written to; ``slots.scratch`` may be. ``lr`` is a float.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement `update_step`.")

    def _prepare_step(self, lr: float) -> None:
        """Per-step state shared by all variables, updated once before the update steps.

        Only Nadam needs it (its running product advances once per step, not per variable).
        """

    def minimize(self, loss, var_list, tape=None) -> int:
        """tf.keras's ``minimize``: one step on ``var_list`` down the gradient of ``loss``, a
        zero-argument callable (or a Tensor recorded by ``tape``); returns ``iterations``.

        >>> from numkeras.backprop import Variable
        >>> w = Variable(np.array([3.0], np.float32))
        >>> _ = SGD(learning_rate=0.1).minimize(lambda: (w * w).sum(), [w])
        >>> w.numpy()  # 3 - 0.1 * 6
        array([2.4], dtype=float32)
        """
        from numkeras.backprop.tape import GradientTape

        var_list = list(var_list() if callable(var_list) else var_list)
        if callable(loss):
            with GradientTape() as tape:
                value = loss()
        elif tape is None:
            raise ValueError("`minimize` needs `tape` when `loss` is a Tensor: pass the "
                             "GradientTape that recorded it, or pass `loss` as a function.")
        else:
            value = loss
        grads = tape.gradient(value, var_list)
        return self.apply_gradients(zip(grads, var_list))

    def apply_gradients(self, grads_and_vars) -> int:
        """Keras's ``apply_gradients(zip(grads, variables))``; returns :attr:`iterations`."""
        pairs = list(grads_and_vars)
        self.apply([g for g, _ in pairs], [v for _, v in pairs])
        return self.iterations

    def apply(self, grads, variables=None) -> None:
        """Update ``variables`` (default: those the optimizer was built with) from ``grads``,
        one variable at a time. Builds the optimizer on first use. A ``None`` gradient skips
        its variable (with a warning, as in Keras).
        """
        grads = list(grads)
        if variables is None:
            if not self.built:
                raise ValueError(
                    "When passing `grads` without `variables`, the optimizer must already be "
                    "built on a list of variables. Call `optimizer.build(variables)` first."
                )
            variables = self._variables
        variables = list(variables)
        if len(grads) != len(variables):
            raise ValueError(f"Got {len(grads)} gradients for {len(variables)} variables; pass "
                             "exactly one gradient (or None) per variable.")
        if not grads:
            return
        if not self.built:
            self.build(variables)
        indices = []
        for variable in variables:
            index = self._index.get(id(variable))
            if index is None:
                raise ValueError(
                    f"Unknown variable: {variable!r}. This optimizer can only update the "
                    "variables it was built with; create a new optimizer for new variables."
                )
            indices.append(index)
        kept = [(g, v, i) for g, v, i in zip(grads, variables, indices) if g is not None]
        if not kept:
            raise ValueError("No gradients provided for any variable.")
        if len(kept) < len(grads):
            missing = [getattr(v, "name", "?") for g, v in zip(grads, variables) if g is None]
            warnings.warn(f"Gradients do not exist for variables {missing} when minimizing the "
                          "loss; they are left unchanged.", stacklevel=2)
        variables = [v for _, v, _ in kept]
        indices = [i for _, _, i in kept]
        arrays = [self._gradient_array(g, v) for g, v, _ in kept]

        lr = self.learning_rate
        arrays = self._clip_each(arrays, indices)
        if self.weight_decay:
            for variable, i in zip(variables, indices):
                if self._decayed[i]:
                    self._decay(variable.data, self._var_slots[i].scratch[0], lr)
        self._prepare_step(lr)
        for grad, variable, i in zip(arrays, variables, indices):
            self.update_step(grad, variable.data, self._var_slots[i], lr)
        self._constrain(variables)
        self._iterations[()] += 1  # 10x cheaper than `+=` on the 0-d array itself

    def apply_buffer(self, buffer) -> None:
        """One update of every variable of a :class:`~numkeras.backprop.ParameterBuffer`, in a
        handful of passes over its flat arrays: gradients are read from ``buffer.grad`` (left
        unchanged), values updated in ``buffer.data``. Builds the optimizer on first use.
        """
        if buffer is not self._buffer:
            self._attach(buffer)
        lr = self.learning_rate
        grad = self._clip_flat(buffer.grad)
        if self.weight_decay:
            if self._decay_all:
                self._decay(buffer.data, self._flat_slots.scratch[0], lr)
            else:
                for variable, slots, decayed in zip(self._variables, self._var_slots,
                                                    self._decayed):
                    if decayed:
                        self._decay(variable.data, slots.scratch[0], lr)
        self._prepare_step(lr)
        self.update_step(grad, buffer.data, self._flat_slots, lr)
        self._constrain(buffer.variables)
        self._iterations[()] += 1  # 10x cheaper than `+=` on the 0-d array itself

    def _attach(self, buffer) -> None:
        if not self.built:
            self.build(buffer.variables)
        elif not buffer.holds(self._variables):
            raise ValueError(
                f"Optimizer '{self.name}' was built for {len(self._variables)} variables, but "
                f"this ParameterBuffer holds {len(buffer.variables)} different ones (or in a "
                "different order). Create a new optimizer for new variables."
            )
        if buffer.data.dtype != self._dtype:
            raise ValueError(f"ParameterBuffer dtype {buffer.data.dtype} does not match the "
                             f"optimizer's {self._dtype}.")
        self._grad_views = buffer.views(buffer.grad)
        self._decay_all = all(self._decayed)
        self._buffer = buffer

    def _gradient_array(self, grad, variable) -> np.ndarray:
        grad = np.asarray(grad.data if isinstance(grad, Tensor) else grad)
        if grad.dtype != self._dtype:
            grad = grad.astype(self._dtype)
        if grad.shape != variable.data.shape:
            raise ValueError(
                f"Gradient of shape {grad.shape} does not match variable "
                f"'{getattr(variable, 'path', '?')}' of shape {variable.data.shape}."
            )
        return grad

    def _decay(self, value: np.ndarray, scratch: np.ndarray, lr: float) -> None:
        # Keras 3's decoupled decay, before the step: w -= w * weight_decay * lr (2 passes).
        np.multiply(value, self.weight_decay * lr, out=scratch)
        value -= scratch

    def _constrain(self, variables) -> None:
        for variable in variables:
            constraint = getattr(variable, "constraint", None)
            if constraint is not None:
                variable.assign(constraint(variable.data))

    # ----- clipping (Keras: clipnorm per variable, global_clipnorm over all, clipvalue) -----
    def _clip_outputs(self):
        if self._clip_flat_out is None:
            self._clip_flat_out = np.empty(self._size, self._dtype)
            self._clip_views = self._views(self._clip_flat_out)
        return self._clip_flat_out, self._clip_views

    def _norm_scale(self, squared: float) -> float:
        """Factor applied to one variable's gradient for ``clipnorm`` (1.0: untouched)."""
        norm = math.sqrt(squared) if squared >= 0 else math.nan
        return self.clipnorm / norm if norm > self.clipnorm else 1.0

    def _global_scale(self, squared: float) -> float:
        norm = math.sqrt(squared) if squared >= 0 else math.nan
        if not math.isfinite(norm):
            return math.nan  # as in Keras: a non-finite global norm turns every gradient to NaN
        return self.global_clipnorm / norm if norm > self.global_clipnorm else 1.0

    def _clip_flat(self, grad: np.ndarray) -> np.ndarray:
        if self.clipvalue is not None:
            out, _ = self._clip_outputs()
            return np.clip(grad, -self.clipvalue, self.clipvalue, out=out)
        if self.clipnorm is not None:
            scales = [self._norm_scale(_squared_norm(g)) for g in self._grad_views]
            if all(s == 1.0 for s in scales):
                return grad
            out, views = self._clip_outputs()
            for g, o, s in zip(self._grad_views, views, scales):
                np.multiply(g, s, out=o)
            return out
        if self.global_clipnorm is not None:
            scale = self._global_scale(_squared_norm(grad))
            if scale == 1.0:
                return grad
            out, _ = self._clip_outputs()
            return np.multiply(grad, scale, out=out)
        return grad

    def _clip_each(self, grads: list, indices: list) -> list:
        if self.clipvalue is not None:
            _, views = self._clip_outputs()
            return [np.clip(g, -self.clipvalue, self.clipvalue, out=views[i])
                    for g, i in zip(grads, indices)]
        if self.clipnorm is not None:
            _, views = self._clip_outputs()
            out = []
            for g, i in zip(grads, indices):
                scale = self._norm_scale(_squared_norm(g))
                out.append(g if scale == 1.0 else np.multiply(g, scale, out=views[i]))
            return out
        if self.global_clipnorm is not None:
            scale = self._global_scale(sum(_squared_norm(g) for g in grads))
            if scale == 1.0:
                return grads
            _, views = self._clip_outputs()
            return [np.multiply(g, scale, out=views[i]) for g, i in zip(grads, indices)]
        return grads

    # ----- config -----
    def get_config(self) -> dict:
        """Keras 3's config keys, in Keras's order (the optimizer's own keys follow)."""
        schedule = self._schedule
        if schedule is None:
            learning_rate = float(self._lr)  # float32 widened: 0.0010000000474974513
        elif isinstance(schedule, schedules.LearningRateSchedule):
            learning_rate = schedules.serialize(schedule)
        else:
            raise ValueError(
                f"Optimizer '{self.name}' gets its learning rate from the callable {schedule!r}, "
                "which cannot be serialized. Subclass "
                "numkeras.optimizers.schedules.LearningRateSchedule (with get_config) instead."
            )
        return {
            "name": self.name, "learning_rate": learning_rate, "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm, "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue, "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects=None):
        """The optimizer described by ``config`` (fresh state)."""
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"],
                                                            custom_objects)
        return cls(**config)

    # ----- Keras trainer hooks that have nothing to do here -----
    def scale_loss(self, loss):
        """The loss unchanged (numkeras has no loss scaling)."""
        return loss

    def finalize_variable_values(self, var_list) -> None:
        """Nothing to do: without EMA the trained values are final."""

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} name={self.name}, learning_rate={self.learning_rate}, "
                f"iterations={self.iterations}>")


# ----- the optimizers, simplest first -----
class SGD(Optimizer):
    """Gradient descent, optionally with (Nesterov) momentum.

    ``w -= lr * g``; with momentum ``m = momentum * m - lr * g; w += m``; with Nesterov
    ``w += momentum * m - lr * g`` (using the new ``m``).

    >>> from numkeras.backprop import Variable
    >>> w = Variable(np.array([1.0], np.float32))
    >>> opt = SGD(learning_rate=0.1, momentum=0.9)
    >>> for _ in range(2):
    ...     opt.apply([np.array([1.0], np.float32)], [w])
    >>> w.data  # 1 - 0.1 - (0.9 * 0.1 + 0.1)
    array([0.71], dtype=float32)
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.momentum = _real("momentum", momentum, 0.0, 1.0)
        self.nesterov = bool(nesterov)
        self.scratch_count = 2 if self.nesterov else 1

    def build(self, variables):
        super().build(variables)
        if self.momentum != 0:
            self.add_slots("momentum")

    def update_step(self, grad, value, slots, lr):
        step = slots.scratch[0]
        np.multiply(grad, lr, out=step)              # lr * g
        if self.momentum == 0:                       # 2 passes
            value -= step
            return
        m = slots["momentum"]
        m *= self.momentum                           # m = momentum * m - lr * g
        m -= step
        if not self.nesterov:                        # 4 passes
            value += m
            return
        ahead = slots.scratch[1]                     # 6 passes
        np.multiply(m, self.momentum, out=ahead)
        ahead -= step
        value += ahead

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    """Adam, with Keras's placement of epsilon (after folding the bias corrections into the
    step size): ``alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)``,
    ``w -= alpha * m / (sqrt(v) + epsilon)``. ``amsgrad`` divides by the running max of ``v``.

    >>> from numkeras.backprop import Variable
    >>> w = Variable(np.array([1.0, -1.0], np.float32))
    >>> Adam(learning_rate=0.01).apply([np.array([0.5, -2.0], np.float32)], [w])
    >>> w.data.round(5)  # the first step moves each weight by about lr against its gradient
    array([ 0.99, -0.99], dtype=float32)
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = _real("beta_1", beta_1, 0.0, 1.0)
        self.beta_2 = _real("beta_2", beta_2, 0.0, 1.0)
        self.epsilon = _real("epsilon", epsilon, 0.0)
        self.amsgrad = bool(amsgrad)

    def build(self, variables):
        super().build(variables)
        self.add_slots(("momentum", "velocity"))
        if self.amsgrad:
            self.add_slots("velocity_hat")

    def update_step(self, grad, value, slots, lr):
        # 12 passes over the parameters (13 with amsgrad), one of them a sqrt. Keras writes
        # m += (g - m) * (1 - beta_1); the same value as below, where more of the passes are
        # in place or by a scalar, which NumPy runs faster.
        m, v, t = slots["momentum"], slots["velocity"], slots.scratch[0]
        beta_1, beta_2 = self.beta_1, self.beta_2
        step = int(self._iterations) + 1
        # Keras raises the float32 betas to the power t.
        alpha = lr * math.sqrt(1 - _f32(beta_2) ** step) / (1 - _f32(beta_1) ** step)
        if not self.amsgrad and kernels.adam(grad, value, m, v, beta_1, beta_2, self.epsilon,
                                             alpha):
            return  # the same arithmetic in one compiled pass (numba installed)
        m *= beta_1                                  # m = beta_1 * m + (1 - beta_1) * g
        np.multiply(grad, 1 - beta_1, out=t)
        m += t
        v *= beta_2                                  # v = beta_2 * v + (1 - beta_2) * g^2
        np.square(grad, out=t)
        t *= 1 - beta_2
        v += t
        if self.amsgrad:
            v = np.maximum(slots["velocity_hat"], v, out=slots["velocity_hat"])
        np.sqrt(v, out=t)                            # w -= alpha * m / (sqrt(v) + epsilon)
        t += self.epsilon
        np.divide(m, t, out=t)
        t *= alpha
        value -= t

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with decoupled weight decay (``weight_decay=0.004`` by default): before each Adam
    step ``w -= w * weight_decay * lr``.

    >>> AdamW().weight_decay
    0.004
    """

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, **kwargs):
        if weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float for AdamW. Received: "
                             "weight_decay=None. Use Adam for no weight decay.")
        super().__init__(learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
                         amsgrad=amsgrad, weight_decay=weight_decay, **kwargs)


class RMSprop(Optimizer):
    """Divide the gradient by a running root mean square of recent gradients.

    ``v = rho * v + (1 - rho) * g^2``; ``step = lr * g / sqrt(v + epsilon)``; with momentum
    ``mom = momentum * mom + step; w -= mom``, else ``w -= step``. ``centered`` uses
    ``v - mean_g^2 + epsilon`` under the root, with ``mean_g`` a running mean of ``g``.

    >>> from numkeras.backprop import Variable
    >>> w = Variable(np.array([10.0], np.float32))
    >>> RMSprop(learning_rate=0.1).apply([np.array([10.0], np.float32)], [w])
    >>> w.data  # 10 - 0.1 * 10 / sqrt(0.1 * 100 + 1e-7)
    array([9.683772], dtype=float32)
    """

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
                 centered=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.rho = _real("rho", rho, 0.0, 1.0)
        self.momentum = _real("momentum", momentum, 0.0)
        self.epsilon = _real("epsilon", epsilon, 0.0)
        self.centered = bool(centered)

    def build(self, variables):
        super().build(variables)
        # Keras creates these in three separate loops, so the saved order is all velocities,
        # then all momentums, then all average gradients.
        self.add_slots("velocity")
        if self.momentum > 0:
            self.add_slots("momentum")
        if self.centered:
            self.add_slots("average_gradient")

    def update_step(self, grad, value, slots, lr):
        # 9 passes (+3 centered, +1 momentum), one of them a sqrt.
        rho, v, t = self.rho, slots["velocity"], slots.scratch[0]
        v *= rho                                     # v = rho * v + (1 - rho) * g^2
        np.square(grad, out=t)
        t *= 1 - rho
        v += t
        if self.centered:
            mean = slots["average_gradient"]         # mean_g = rho * mean_g + (1 - rho) * g
            mean *= rho
            np.multiply(grad, 1 - rho, out=t)
            mean += t
            np.square(mean, out=t)                   # v - mean_g^2 + epsilon
            np.subtract(v, t, out=t)
            t += self.epsilon
        else:
            np.add(v, self.epsilon, out=t)
        np.sqrt(t, out=t)                            # step = lr * g / sqrt(...)
        np.divide(grad, t, out=t)
        t *= lr
        if self.momentum > 0:
            mom = slots["momentum"]
            mom *= self.momentum
            mom += t
            value -= mom
        else:
            value -= t

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}


class Adagrad(Optimizer):
    """Per-parameter rates shrinking with the sum of squared gradients:
    ``acc += g^2; w -= lr * g / sqrt(acc + epsilon)``, ``acc`` starting at
    ``initial_accumulator_value``.

    >>> from numkeras.backprop import Variable
    >>> w = Variable(np.array([1.0], np.float32))
    >>> Adagrad(learning_rate=0.1).apply([np.array([0.3], np.float32)], [w])
    >>> w.data  # 1 - 0.1 * 0.3 / sqrt(0.1 + 0.09)
    array([0.9311753], dtype=float32)
    """

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.initial_accumulator_value = _real("initial_accumulator_value",
                                               initial_accumulator_value, 0.0)
        self.epsilon = _real("epsilon", epsilon, 0.0)

    def build(self, variables):
        super().build(variables)
        self.add_slots("accumulator", self.initial_accumulator_value)

    def update_step(self, grad, value, slots, lr):
        # 7 passes, one of them a sqrt.
        acc, t = slots["accumulator"], slots.scratch[0]
        np.square(grad, out=t)                       # acc += g^2
        acc += t
        np.add(acc, self.epsilon, out=t)             # w -= lr * g / sqrt(acc + epsilon)
        np.sqrt(t, out=t)
        np.divide(grad, t, out=t)
        t *= lr
        value -= t

    def get_config(self):
        return {**super().get_config(),
                "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


class Adadelta(Optimizer):
    """Adadelta: steps scaled by the ratio of running RMS of past updates and of gradients.

    ``E[g^2] = rho E[g^2] + (1 - rho) g^2``;
    ``delta = -sqrt(E[dx^2] + eps) / sqrt(E[g^2] + eps) * g``;
    ``E[dx^2] = rho E[dx^2] + (1 - rho) delta^2``; ``w += lr * delta``.

    >>> Adadelta().rho
    0.95
    """

    scratch_count = 2

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.rho = _real("rho", rho, 0.0, 1.0)
        self.epsilon = _real("epsilon", epsilon, 0.0)

    def build(self, variables):
        super().build(variables)
        self.add_slots(("accumulated_grad", "accumulated_delta_var"))

    def update_step(self, grad, value, slots, lr):
        # 16 passes, two of them sqrt.
        rho, eps = self.rho, self.epsilon
        acc_grad, acc_delta = slots["accumulated_grad"], slots["accumulated_delta_var"]
        t, t2 = slots.scratch
        acc_grad *= rho                              # E[g^2]
        np.square(grad, out=t)
        t *= 1 - rho
        acc_grad += t
        np.add(acc_delta, eps, out=t)                # t = -delta = rms(E[dx^2]) * g / rms(E[g^2])
        np.sqrt(t, out=t)
        t *= grad
        np.add(acc_grad, eps, out=t2)
        np.sqrt(t2, out=t2)
        t /= t2
        acc_delta *= rho                             # E[dx^2]
        np.square(t, out=t2)
        t2 *= 1 - rho
        acc_delta += t2
        t *= lr                                      # w += lr * delta
        value -= t

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}


class Adamax(Optimizer):
    """Adam with the infinity norm: ``u = max(beta_2 * u, |g|)``,
    ``w -= lr / (1 - beta_1**t) * m / (u + epsilon)``.

    >>> from numkeras.backprop import Variable
    >>> w = Variable(np.array([1.0], np.float32))
    >>> Adamax(learning_rate=0.1).apply([np.array([4.0], np.float32)], [w])
    >>> w.data.round(5)  # 1 - 0.1 / 0.1 * (0.1 * 4) / 4
    array([0.9], dtype=float32)
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = _real("beta_1", beta_1, 0.0, 1.0)
        self.beta_2 = _real("beta_2", beta_2, 0.0, 1.0)
        self.epsilon = _real("epsilon", epsilon, 0.0)

    def build(self, variables):
        super().build(variables)
        self.add_slots(("momentum", "norm"))

    def update_step(self, grad, value, slots, lr):
        # 10 passes.
        m, u, t = slots["momentum"], slots["norm"], slots.scratch[0]
        step = int(self._iterations) + 1
        m *= self.beta_1                             # m = beta_1 * m + (1 - beta_1) * g
        np.multiply(grad, 1 - self.beta_1, out=t)
        m += t
        u *= self.beta_2                             # u = max(beta_2 * u, |g|)
        np.abs(grad, out=t)
        np.maximum(u, t, out=u)
        np.add(u, self.epsilon, out=t)               # w -= lr / (1 - beta_1^t) * m / (u + eps)
        np.divide(m, t, out=t)
        t *= lr / (1 - _f32(self.beta_1) ** step)
        value -= t

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}


class Nadam(Optimizer):
    """Adam with Nesterov momentum (Dozat's schedule ``u_t = beta_1 (1 - 0.5 * 0.96**t)``).

    ``m_hat = u_{t+1} m / (1 - prod u_1..u_{t+1}) + (1 - u_t) g / (1 - prod u_1..u_t)``,
    ``v_hat = v / (1 - beta_2**t)``, ``w -= lr * m_hat / (sqrt(v_hat) + epsilon)``. The running
    product is saved after the slots, as Keras saves it.

    >>> from numkeras.backprop import Variable
    >>> opt = Nadam()
    >>> opt.build([Variable(np.zeros(3, np.float32))])
    >>> [v.shape for v in opt.variables]
    [(), (), (3,), (3,), ()]
    """

    scratch_count = 2

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = _real("beta_1", beta_1, 0.0, 1.0)
        self.beta_2 = _real("beta_2", beta_2, 0.0, 1.0)
        self.epsilon = _real("epsilon", epsilon, 0.0)

    def build(self, variables):
        super().build(variables)
        self.add_slots(("momentum", "velocity"))
        self._u_product = self.add_scalar("u_product", 1.0)

    def _u(self, step: int) -> float:
        return _f32(self.beta_1) * (1.0 - 0.5 * 0.96 ** step)

    def _prepare_step(self, lr):
        # The running product of u_t advances once per step, not once per variable.
        self._u_product *= self._u(int(self._iterations) + 1)

    def update_step(self, grad, value, slots, lr):
        # 14 passes, one of them a sqrt: with c = sqrt(1 - beta_2^t),
        # sqrt(v / c^2) + eps = (sqrt(v) + eps * c) / c, so c and lr fold into m_hat's factors.
        m, v = slots["momentum"], slots["velocity"]
        t, t2 = slots.scratch
        # Keras's Nadam casts the betas to float32 first, even inside (1 - beta).
        beta_1, beta_2 = _f32(self.beta_1), _f32(self.beta_2)
        step = int(self._iterations) + 1
        u_now, u_next = self._u(step), self._u(step + 1)
        product = float(self._u_product)
        c = math.sqrt(1.0 - beta_2 ** step)
        m *= beta_1                                  # m = beta_1 * m + (1 - beta_1) * g
        np.multiply(grad, 1 - beta_1, out=t)
        m += t
        v *= beta_2                                  # v = beta_2 * v + (1 - beta_2) * g^2
        np.square(grad, out=t)
        t *= 1 - beta_2
        v += t
        np.multiply(m, lr * c * u_next / (1.0 - product * u_next), out=t)   # lr * c * m_hat
        np.multiply(grad, lr * c * (1.0 - u_now) / (1.0 - product), out=t2)
        t += t2
        np.sqrt(v, out=t2)                           # sqrt(v) + eps * c
        t2 += self.epsilon * c
        t /= t2
        value -= t

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}


# ----- get / serialize / deserialize -----
ALL_OBJECTS = {cls.__name__: cls for cls in (
    SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, Adamax, Nadam)}
_TABLE = {name.lower(): cls for name, cls in ALL_OBJECTS.items()}


def get(identifier, argument: str | None = None) -> Optimizer:
    """An optimizer from a name (any case: ``"adam"``, ``"RMSprop"``), a config dict (Keras 2
    or 3 form), an optimizer class, or an instance (returned as is).

    >>> get("adam").get_config()["learning_rate"]
    0.0010000000474974513
    >>> get({"class_name": "SGD", "config": {"learning_rate": 0.1}}).learning_rate
    0.10000000149011612
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        return lookup("optimizer", _TABLE, identifier, argument)()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    where = f" (argument `{argument}`)" if argument else ""
    raise ValueError(
        f"Could not interpret optimizer identifier{where}: {identifier!r}. Pass a name such as "
        f"'adam', a config dict, or an optimizer instance. Valid names: {', '.join(_TABLE)}."
    )


def serialize(optimizer: Optimizer) -> dict:
    """Keras 3's ``{"module": "keras.optimizers", "class_name", "config", "registered_name"}``.

    >>> serialize(SGD())["class_name"]
    'SGD'
    """
    return serialize_object(optimizer, "keras.optimizers")


def deserialize(config: dict, custom_objects=None) -> Optimizer:
    """An optimizer from its serialized dict; tf.keras's ``"Custom>Adam"`` names are accepted.

    >>> deserialize({"class_name": "Custom>Adam", "config": {"learning_rate": 0.5}}).learning_rate
    0.5
    """
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            f"Cannot deserialize an optimizer from {config!r}: expected a dict with "
            "'class_name' and 'config' keys, e.g. {'class_name': 'Adam', 'config': {}}."
        )
    name = str(config["class_name"])
    name = name.removeprefix("Custom>")
    custom_objects = custom_objects or {}
    registered = config.get("registered_name")
    if registered and registered in custom_objects:
        name = registered
    cls = lookup("optimizer", {**_TABLE, **custom_objects}, name)
    options = dict(config.get("config") or {})
    if isinstance(cls, type) and issubclass(cls, Optimizer):
        return cls.from_config(options, custom_objects=custom_objects)
    return cls.from_config(options)
