"""Optimizers: Keras 3 update rules against float64 references written from the spec formulas,
defaults, clipping, weight decay, constraints, schedules, the flat path against the per-variable
path, saved-variable order, state round trips, get/serialize, and errors."""

import json
import math
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from numkeras import constraints, optimizers
from numkeras.backprop import ParameterBuffer, Tensor, Variable
from numkeras.optimizers import schedules

SHAPES = [(3, 2), (2,), (4,)]
MLP_SHAPES = [(784, 128), (128,), (128, 10), (10,)]
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "keras-compat"


def make_variables(shapes=SHAPES, seed=0, **kwargs):
    rng = np.random.default_rng(seed)
    return [Variable(rng.uniform(-1, 1, s).astype(np.float32), name=f"v{i}", **kwargs)
            for i, s in enumerate(shapes)]


def make_grads(shapes=SHAPES, steps=5, seed=1, scale=1.0):
    rng = np.random.default_rng(seed)
    return [[(scale * rng.normal(size=s)).astype(np.float32) for s in shapes]
            for _ in range(steps)]


# ----- float64 references, written from keras-compat.md §4.2 and Keras 3's source -----
def reference(name, options, initial, grads_per_step):
    """Weights after each step, in float64, one variable at a time, straight from the formulas."""
    o = {**DEFAULTS[name], **options}
    lr, wd = o["learning_rate"], o.get("weight_decay")
    ws = [np.asarray(w, np.float64).copy() for w in initial]
    state = [{} for _ in ws]
    product = 1.0  # Nadam's running product of u_t
    history = []
    for t, grads in enumerate(grads_per_step, start=1):
        if name == "Nadam":
            product *= o["beta_1"] * (1 - 0.5 * 0.96 ** t)
        for w, g, s in zip(ws, grads, state):
            g = np.asarray(g, np.float64)
            if wd:
                w -= w * wd * lr
            if name == "SGD":
                if o["momentum"] == 0:
                    w -= lr * g
                else:
                    s["m"] = o["momentum"] * s.get("m", 0.0) - lr * g
                    w += (o["momentum"] * s["m"] - lr * g) if o["nesterov"] else s["m"]
            elif name in ("Adam", "AdamW"):
                b1, b2 = o["beta_1"], o["beta_2"]
                s["m"] = s.get("m", 0.0) + (g - s.get("m", 0.0)) * (1 - b1)
                s["v"] = s.get("v", 0.0) + (g * g - s.get("v", 0.0)) * (1 - b2)
                v = s["v"]
                if o["amsgrad"]:
                    s["vhat"] = v = np.maximum(s.get("vhat", 0.0), s["v"])
                alpha = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
                w -= alpha * s["m"] / (np.sqrt(v) + o["epsilon"])
            elif name == "RMSprop":
                rho = o["rho"]
                s["v"] = rho * s.get("v", 0.0) + (1 - rho) * g * g
                if o["centered"]:
                    s["a"] = rho * s.get("a", 0.0) + (1 - rho) * g
                    denominator = s["v"] - s["a"] ** 2 + o["epsilon"]
                else:
                    denominator = s["v"] + o["epsilon"]
                step = lr * g / np.sqrt(denominator)
                if o["momentum"] > 0:
                    s["mom"] = o["momentum"] * s.get("mom", 0.0) + step
                    w -= s["mom"]
                else:
                    w -= step
            elif name == "Adagrad":
                s["acc"] = s.get("acc", o["initial_accumulator_value"]) + g * g
                w -= lr * g / np.sqrt(s["acc"] + o["epsilon"])
            elif name == "Adadelta":
                rho, eps = o["rho"], o["epsilon"]
                s["ag"] = rho * s.get("ag", 0.0) + (1 - rho) * g * g
                delta = -np.sqrt(s.get("ad", 0.0) + eps) * g / np.sqrt(s["ag"] + eps)
                s["ad"] = rho * s.get("ad", 0.0) + (1 - rho) * delta ** 2
                w += lr * delta
            elif name == "Adamax":
                b1 = o["beta_1"]
                s["m"] = s.get("m", 0.0) + (g - s.get("m", 0.0)) * (1 - b1)
                s["u"] = np.maximum(o["beta_2"] * s.get("u", 0.0), np.abs(g))
                w -= lr / (1 - b1 ** t) * s["m"] / (s["u"] + o["epsilon"])
            elif name == "Nadam":
                b1, b2 = o["beta_1"], o["beta_2"]
                u_t = b1 * (1 - 0.5 * 0.96 ** t)
                u_next = b1 * (1 - 0.5 * 0.96 ** (t + 1))
                s["m"] = s.get("m", 0.0) + (g - s.get("m", 0.0)) * (1 - b1)
                s["v"] = s.get("v", 0.0) + (g * g - s.get("v", 0.0)) * (1 - b2)
                m_hat = u_next * s["m"] / (1 - product * u_next) + (1 - u_t) * g / (1 - product)
                v_hat = s["v"] / (1 - b2 ** t)
                w -= lr * m_hat / (np.sqrt(v_hat) + o["epsilon"])
        history.append([w.copy() for w in ws])
    return history


# Keras 3 defaults (keras-compat.md §4.2): the reference uses them, and the test below checks
# that the classes have them.
DEFAULTS = {
    "SGD": {"learning_rate": 0.01, "momentum": 0.0, "nesterov": False},
    "Adam": {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7,
             "amsgrad": False},
    "AdamW": {"learning_rate": 0.001, "weight_decay": 0.004, "beta_1": 0.9, "beta_2": 0.999,
              "epsilon": 1e-7, "amsgrad": False},
    "RMSprop": {"learning_rate": 0.001, "rho": 0.9, "momentum": 0.0, "epsilon": 1e-7,
                "centered": False},
    "Adagrad": {"learning_rate": 0.001, "initial_accumulator_value": 0.1, "epsilon": 1e-7},
    "Adadelta": {"learning_rate": 0.001, "rho": 0.95, "epsilon": 1e-7},
    "Adamax": {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
    "Nadam": {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
}

# Each optimizer with options that make every term of its formula visible (large epsilon, lr).
CASES = [
    ("SGD", {"learning_rate": 0.1}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.5, "nesterov": True}),
    ("Adam", {"learning_rate": 0.1}),
    ("Adam", {"learning_rate": 0.1, "epsilon": 0.5, "beta_1": 0.5, "beta_2": 0.8}),
    ("Adam", {"learning_rate": 0.1, "amsgrad": True, "beta_2": 0.5}),
    ("AdamW", {"learning_rate": 0.1, "weight_decay": 0.5}),
    ("RMSprop", {"learning_rate": 0.1}),
    ("RMSprop", {"learning_rate": 0.1, "epsilon": 0.5, "rho": 0.5}),
    ("RMSprop", {"learning_rate": 0.1, "momentum": 0.9}),
    ("RMSprop", {"learning_rate": 0.1, "centered": True, "momentum": 0.5, "epsilon": 0.1}),
    ("Adagrad", {"learning_rate": 0.1}),
    ("Adagrad", {"learning_rate": 0.1, "initial_accumulator_value": 0.0, "epsilon": 0.5}),
    ("Adadelta", {"learning_rate": 1.0}),
    ("Adadelta", {"learning_rate": 1.0, "rho": 0.5, "epsilon": 0.01}),
    ("Adamax", {"learning_rate": 0.1}),
    ("Adamax", {"learning_rate": 0.1, "epsilon": 0.5, "beta_1": 0.5, "beta_2": 0.5}),
    ("Nadam", {"learning_rate": 0.1}),
    ("Nadam", {"learning_rate": 0.1, "epsilon": 0.5, "beta_1": 0.5, "beta_2": 0.8}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9, "weight_decay": 0.1}),
]
CASE_IDS = [f"{n}-{','.join(f'{k}={v}' for k, v in o.items())}" for n, o in CASES]


def make_optimizer(name, **options):
    return getattr(optimizers, name)(**options)


@pytest.mark.parametrize("name,options", CASES, ids=CASE_IDS)
def test_first_steps_match_the_spec_formulas(name, options):
    variables = make_variables()
    initial = [v.numpy() for v in variables]
    grads = make_grads(steps=3)
    optimizer = make_optimizer(name, **options)
    expected = reference(name, options, initial, grads)
    for step, step_grads in enumerate(grads):
        optimizer.apply(step_grads, variables)
        for variable, want in zip(variables, expected[step]):
            assert variable.data.dtype == np.float32
            np.testing.assert_allclose(variable.data, want, rtol=2e-5, atol=2e-6,
                                       err_msg=f"{name} step {step + 1}")
    assert optimizer.iterations == 3


def test_first_adam_step_by_hand():
    # t=1: m = 0.1 g, v = 0.001 g^2, alpha = lr * sqrt(1 - b2) / (1 - b1): a step of about lr
    # against the sign of g. Keras raises the *float32* betas to the power t, which makes
    # alpha 6.6e-6 smaller than with exact 0.9 and 0.999; numkeras does the same.
    w = Variable(np.array([1.0, 1.0], np.float32))
    optimizers.Adam(learning_rate=0.1).apply([np.array([2.0, -0.5], np.float32)], [w])
    b1, b2 = float(np.float32(0.9)), float(np.float32(0.999))
    alpha = float(np.float32(0.1)) * math.sqrt(1 - b2) / (1 - b1)
    for w_new, g in zip(w.data, [2.0, -0.5]):
        m, v = 0.1 * g, 0.001 * g * g
        assert w_new == pytest.approx(1 - alpha * m / (math.sqrt(v) + 1e-7), rel=1e-7)


def test_rmsprop_keras_docstring_example():
    # Keras's RMSprop docstring: var1 = 10, loss = var1^2 / 2, lr 0.1 -> 9.683772.
    w = Variable(np.array(10.0, np.float32))
    optimizers.RMSprop(learning_rate=0.1).apply([w.data.copy()], [w])
    assert float(w.data) == pytest.approx(9.683772, abs=1e-6)


@pytest.mark.parametrize("name", sorted(DEFAULTS))
def test_defaults_match_the_spec_table(name):
    config = make_optimizer(name).get_config()
    for key, value in DEFAULTS[name].items():
        if key == "learning_rate":
            assert config[key] == float(np.float32(value))
        else:
            assert config[key] == value, key
    base = {"clipnorm": None, "clipvalue": None, "global_clipnorm": None, "use_ema": False,
            "ema_momentum": 0.99}
    for key, value in base.items():
        assert config[key] == value
    if name != "AdamW":
        assert config["weight_decay"] is None


def test_learning_rate_config_is_float32_widened():
    assert optimizers.Adam().get_config()["learning_rate"] == 0.0010000000474974513
    assert optimizers.SGD().get_config()["learning_rate"] == 0.009999999776482582


def test_adam_config_matches_the_keras3_fixture_byte_for_byte():
    saved = json.loads((FIXTURES / "keras3_trained_config.json").read_text())
    expected = saved["compile_config"]["optimizer"]
    assert json.dumps(optimizers.serialize(optimizers.get("adam"))) == json.dumps(expected)


# ----- flat path == per-variable path -----
FLAT_CASES = CASES + [
    ("Adam", {"learning_rate": 0.1, "clipnorm": 1.0}),
    ("Adam", {"learning_rate": 0.1, "global_clipnorm": 1.0}),
    ("Adam", {"learning_rate": 0.1, "clipvalue": 0.5}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9, "clipnorm": 0.7}),
    ("RMSprop", {"learning_rate": 0.1, "global_clipnorm": 0.5, "weight_decay": 0.1}),
    ("Nadam", {"learning_rate": 0.1, "clipvalue": 0.1}),
    ("Adagrad", {"learning_rate": 0.1, "clipnorm": 1.0, "weight_decay": 0.2}),
    ("Adadelta", {"learning_rate": 1.0, "global_clipnorm": 2.0}),
    ("Adamax", {"learning_rate": 0.1, "clipnorm": 0.5}),
]
FLAT_IDS = [f"{n}-{','.join(f'{k}={v}' for k, v in o.items())}" for n, o in FLAT_CASES]


@pytest.mark.parametrize("name,options", FLAT_CASES, ids=FLAT_IDS)
def test_flat_buffer_path_equals_per_variable_path(name, options):
    flat_vars, each_vars = make_variables(), make_variables()
    buffer = ParameterBuffer(flat_vars)
    flat_opt, each_opt = make_optimizer(name, **options), make_optimizer(name, **options)
    for grads in make_grads(steps=5, scale=2.0):
        buffer.grad[:] = np.concatenate([g.ravel() for g in grads])
        before = buffer.grad.copy()
        flat_opt.apply_buffer(buffer)
        np.testing.assert_array_equal(buffer.grad, before)  # clipping never edits the input
        each_opt.apply([g.copy() for g in grads], each_vars)
    norm_clipped = "clipnorm" in options or "global_clipnorm" in options
    for a, b in zip(flat_vars + flat_opt.variables, each_vars + each_opt.variables):
        a, b = np.asarray(getattr(a, "data", a)), np.asarray(getattr(b, "data", b))
        if norm_clipped:  # norms are summed in a different order: equal to float32 rounding
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
        else:
            np.testing.assert_array_equal(a, b)
    assert flat_opt.iterations == each_opt.iterations == 5


def test_flat_path_matches_the_reference_too():
    variables = make_variables()
    initial = [v.numpy() for v in variables]
    buffer = ParameterBuffer(variables)
    grads = make_grads(steps=2)
    optimizer = optimizers.Adam(learning_rate=0.1)
    for step_grads in grads:
        buffer.grad[:] = np.concatenate([g.ravel() for g in step_grads])
        optimizer.apply_buffer(buffer)
    expected = reference("Adam", {"learning_rate": 0.1}, initial, grads)[-1]
    for variable, want in zip(variables, expected):
        np.testing.assert_allclose(variable.data, want, rtol=2e-5, atol=2e-6)


def test_optimizer_built_per_variable_then_used_on_a_buffer_continues_the_same_state():
    a_vars, b_vars = make_variables(), make_variables()
    a_opt, b_opt = optimizers.Adam(learning_rate=0.1), optimizers.Adam(learning_rate=0.1)
    grads = make_grads(steps=4)
    for g in grads[:2]:
        a_opt.apply([x.copy() for x in g], a_vars)
        b_opt.apply([x.copy() for x in g], b_vars)
    buffer = ParameterBuffer(a_vars)  # the model packs its weights after the first steps
    for g in grads[2:]:
        buffer.grad[:] = np.concatenate([x.ravel() for x in g])
        a_opt.apply_buffer(buffer)
        b_opt.apply([x.copy() for x in g], b_vars)
    for a, b in zip(a_vars, b_vars):
        np.testing.assert_array_equal(a.data, b.data)


@pytest.mark.parametrize("name,options", [
    ("Adam", {}), ("SGD", {}), ("SGD", {"momentum": 0.9, "nesterov": True}), ("RMSprop", {}),
    ("Adam", {"clipnorm": 1e-3}), ("Adam", {"global_clipnorm": 1e-3}), ("AdamW", {}),
    ("Nadam", {"clipvalue": 0.1}), ("Adadelta", {}),
])
def test_apply_buffer_allocates_nothing_per_step(name, options):
    variables = make_variables(MLP_SHAPES)
    buffer = ParameterBuffer(variables)
    buffer.grad[:] = np.random.default_rng(0).normal(size=buffer.size)
    optimizer = make_optimizer(name, **options)
    optimizer.apply_buffer(buffer)  # builds: slots and scratch are allocated here
    tracemalloc.start()
    try:
        for _ in range(3):
            optimizer.apply_buffer(buffer)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < buffer.data.nbytes // 20, f"{peak} bytes allocated during steps"


# ----- clipping, weight decay, constraints -----
def sgd_delta(optimizer, grads, shapes=((2,), (3,))):
    variables = [Variable(np.zeros(s, np.float32)) for s in shapes]
    optimizer.apply([np.asarray(g, np.float32) for g in grads], variables)
    return [-v.data for v in variables]


def test_clipnorm_is_per_variable():
    delta = sgd_delta(optimizers.SGD(learning_rate=1.0, clipnorm=1.0),
                      [[3.0, 4.0], [0.1, 0.2, 0.2]])
    np.testing.assert_allclose(delta[0], [0.6, 0.8], rtol=1e-6)   # norm 5 -> 1
    np.testing.assert_allclose(delta[1], [0.1, 0.2, 0.2], rtol=1e-6)  # norm 0.3: untouched


def test_global_clipnorm_scales_all_gradients_together():
    delta = sgd_delta(optimizers.SGD(learning_rate=1.0, global_clipnorm=1.0),
                      [[3.0, 0.0], [0.0, 0.0, 4.0]])
    np.testing.assert_allclose(delta[0], [0.6, 0.0], rtol=1e-6)
    np.testing.assert_allclose(delta[1], [0.0, 0.0, 0.8], rtol=1e-6)
    small = sgd_delta(optimizers.SGD(learning_rate=1.0, global_clipnorm=10.0),
                      [[3.0, 0.0], [0.0, 0.0, 4.0]])
    np.testing.assert_array_equal(small[1], [0.0, 0.0, 4.0])


def test_global_clipnorm_with_a_non_finite_norm_gives_nan_as_in_keras():
    delta = sgd_delta(optimizers.SGD(learning_rate=1.0, global_clipnorm=1.0),
                      [[np.inf, 1.0], [1.0, 1.0, 1.0]])
    assert np.isnan(delta[1]).all()


def test_clipvalue_clips_each_element():
    delta = sgd_delta(optimizers.SGD(learning_rate=1.0, clipvalue=0.5),
                      [[3.0, -0.2], [-4.0, 0.5, 0.1]])
    np.testing.assert_array_equal(delta[0], np.float32([0.5, -0.2]))
    np.testing.assert_array_equal(delta[1], np.float32([-0.5, 0.5, 0.1]))


def test_clipping_on_the_flat_path_by_hand():
    variables = [Variable(np.zeros(2, np.float32)), Variable(np.zeros(3, np.float32))]
    buffer = ParameterBuffer(variables)
    buffer.grad[:] = [3.0, 4.0, 0.1, 0.2, 0.2]
    optimizers.SGD(learning_rate=1.0, clipnorm=1.0).apply_buffer(buffer)
    np.testing.assert_allclose(-buffer.data, [0.6, 0.8, 0.1, 0.2, 0.2], rtol=1e-6)


def test_weight_decay_is_decoupled_and_uses_the_learning_rate():
    w = Variable(np.array([2.0, -4.0], np.float32))
    optimizers.SGD(learning_rate=0.1, weight_decay=0.5).apply([np.zeros(2, np.float32)], [w])
    np.testing.assert_allclose(w.data, [2.0 * 0.95, -4.0 * 0.95], rtol=1e-7)


def test_adamw_decays_before_the_adam_step():
    w_decay = Variable(np.array([1.0], np.float32))
    w_plain = Variable(np.array([1.0 * (1 - 0.004 * 0.001)], np.float32))
    g = [np.array([0.5], np.float32)]
    optimizers.AdamW().apply(g, [w_decay])
    optimizers.Adam().apply(g, [w_plain])
    np.testing.assert_allclose(w_decay.data, w_plain.data, rtol=1e-7)


@pytest.mark.parametrize("flat", [False, True])
def test_exclude_from_weight_decay(flat):
    kernel = Variable(np.ones(2, np.float32), name="kernel")
    bias = Variable(np.ones(2, np.float32), name="bias")
    optimizer = optimizers.SGD(learning_rate=0.5, weight_decay=0.1)
    optimizer.exclude_from_weight_decay(var_names=["bias"])
    if flat:
        optimizer.apply_buffer(ParameterBuffer([kernel, bias]))
    else:
        optimizer.apply([np.zeros(2, np.float32)] * 2, [kernel, bias])
    np.testing.assert_allclose(kernel.data, [0.95, 0.95], rtol=1e-7)
    np.testing.assert_array_equal(bias.data, [1.0, 1.0])
    with pytest.raises(ValueError, match="before the optimizer is built"):
        optimizer.exclude_from_weight_decay(var_names=["kernel"])


@pytest.mark.parametrize("flat", [False, True])
def test_constraints_apply_after_the_update(flat):
    w = Variable(np.array([0.5, 2.0], np.float32), constraint=constraints.NonNeg())
    other = Variable(np.array([0.5], np.float32))
    optimizer = optimizers.SGD(learning_rate=1.0)
    grads = [np.array([1.0, 1.0], np.float32), np.array([1.0], np.float32)]
    if flat:
        buffer = ParameterBuffer([w, other])
        buffer.grad[:] = np.concatenate(grads)
        optimizer.apply_buffer(buffer)
    else:
        optimizer.apply(grads, [w, other])
    np.testing.assert_array_equal(w.data, [0.0, 1.0])
    np.testing.assert_array_equal(other.data, [-0.5])


def test_none_gradients_are_skipped_with_a_warning():
    a, b = Variable(np.ones(2, np.float32), name="a"), Variable(np.ones(2, np.float32), name="b")
    optimizer = optimizers.SGD(learning_rate=1.0)
    with pytest.warns(UserWarning, match=r"\['b'\]"):
        optimizer.apply([np.ones(2, np.float32), None], [a, b])
    np.testing.assert_array_equal(a.data, [0.0, 0.0])
    np.testing.assert_array_equal(b.data, [1.0, 1.0])
    with pytest.raises(ValueError, match="No gradients"):
        optimizer.apply([None, None], [a, b])


def test_apply_gradients_accepts_zip_and_tensors():
    w = Variable(np.ones(2, np.float32))
    optimizer = optimizers.SGD(learning_rate=0.5)
    assert optimizer.apply_gradients(zip([Tensor(np.ones(2))], [w])) == 1
    np.testing.assert_array_equal(w.data, [0.5, 0.5])
    optimizer.apply([np.ones(2, np.float32)])  # built: variables may be omitted
    np.testing.assert_array_equal(w.data, [0.0, 0.0])


# ----- learning rate, schedules -----
def test_learning_rate_is_settable_and_float32_rounded():
    optimizer = optimizers.Adam()
    assert optimizer.learning_rate == float(np.float32(0.001))
    assert isinstance(optimizer.learning_rate, float)
    optimizer.learning_rate = 0.1
    assert optimizer.learning_rate == float(np.float32(0.1))
    assert optimizer.lr == optimizer.learning_rate
    optimizer.lr = 0.5
    assert optimizer.get_config()["learning_rate"] == 0.5
    view = optimizer.variables[1]
    optimizer.learning_rate = 0.25  # set in place: a saved reference to the variable follows
    assert float(view) == 0.25


def test_schedule_is_evaluated_at_iterations_and_a_float_replaces_it():
    schedule = schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    optimizer = optimizers.SGD(learning_rate=schedule)
    w = Variable(np.zeros(1, np.float32))
    assert len(optimizer.variables) == 1  # Keras tracks no learning_rate variable then
    for _ in range(3):
        optimizer.apply([np.ones(1, np.float32)], [w])
    np.testing.assert_allclose(w.data, [-(0.1 + 0.05 + 0.025)], rtol=1e-6)
    assert optimizer.learning_rate == float(np.float32(0.0125))
    config = optimizer.get_config()["learning_rate"]
    assert config == {"module": "keras.optimizers.schedules", "class_name": "ExponentialDecay",
                      "config": schedule.get_config(), "registered_name": None}
    optimizer.learning_rate = 0.01  # what ReduceLROnPlateau does
    assert optimizer.learning_rate == float(np.float32(0.01))
    assert [v.shape for v in optimizer.variables] == [(), ()]


def test_callable_learning_rate():
    optimizer = optimizers.SGD(learning_rate=lambda: 0.5)
    assert optimizer.learning_rate == 0.5
    with pytest.raises(ValueError, match="cannot be serialized"):
        optimizer.get_config()


def test_schedule_values():
    exp = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.9)
    assert exp(5) == pytest.approx(0.1 * 0.9 ** 0.5, rel=1e-6)
    stair = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.9, staircase=True)
    assert stair(19) == pytest.approx(0.09, rel=1e-6)
    piece = schedules.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1])
    assert [piece(s) for s in (0, 10, 11, 20, 21)] == pytest.approx([1.0, 1.0, 0.5, 0.5, 0.1])
    poly = schedules.PolynomialDecay(1.0, decay_steps=10, end_learning_rate=0.1, power=2.0)
    assert poly(5) == pytest.approx(0.9 * 0.25 + 0.1, rel=1e-6)
    assert poly(50) == pytest.approx(0.1, rel=1e-6)
    cyc = schedules.PolynomialDecay(1.0, decay_steps=10, end_learning_rate=0.0, cycle=True)
    assert cyc(15) == pytest.approx(1 - 15 / 20, rel=1e-6)
    inv = schedules.InverseTimeDecay(0.1, decay_steps=2, decay_rate=0.5)
    assert inv(3) == pytest.approx(0.1 / (1 + 0.5 * 1.5), rel=1e-6)
    inv_stair = schedules.InverseTimeDecay(0.1, decay_steps=2, decay_rate=0.5, staircase=True)
    assert inv_stair(3) == pytest.approx(0.1 / 1.5, rel=1e-6)
    cos = schedules.CosineDecay(0.1, decay_steps=100, alpha=0.1)
    assert cos(25) == pytest.approx(0.1 * (0.9 * 0.5 * (1 + math.cos(math.pi / 4)) + 0.1))
    assert cos(1000) == pytest.approx(0.01, rel=1e-6)
    warm = schedules.CosineDecay(0.0, decay_steps=100, warmup_target=0.1, warmup_steps=10)
    assert warm(5) == pytest.approx(0.05, rel=1e-6)
    assert warm(60) == pytest.approx(0.1 * 0.5 * (1 + math.cos(math.pi / 2)), abs=1e-8)
    restarts = schedules.CosineDecayRestarts(1.0, first_decay_steps=10, t_mul=2.0, m_mul=0.5)
    assert restarts(10) == pytest.approx(0.5)  # second period starts at m_mul
    assert restarts(20) == pytest.approx(0.5 * 0.5 * (1 + math.cos(math.pi * 0.5)))
    assert isinstance(exp(np.int64(3)), float)


def test_schedules_round_trip_and_errors():
    for schedule in (schedules.ExponentialDecay(0.1, 10, 0.9, staircase=True),
                     schedules.PiecewiseConstantDecay([5], [0.1, 0.01]),
                     schedules.PolynomialDecay(0.1, 10, cycle=True),
                     schedules.InverseTimeDecay(0.1, 10, 0.5),
                     schedules.CosineDecay(0.1, 10, warmup_target=0.2, warmup_steps=5),
                     schedules.CosineDecayRestarts(0.1, 10)):
        again = schedules.deserialize(json.loads(json.dumps(schedules.serialize(schedule))))
        assert type(again) is type(schedule) and again.get_config() == schedule.get_config()
        assert [again(s) for s in range(0, 40, 7)] == [schedule(s) for s in range(0, 40, 7)]
    with pytest.raises(ValueError, match="decay_steps"):
        schedules.ExponentialDecay(0.1, 0, 0.9)
    with pytest.raises(ValueError, match="1 less than"):
        schedules.PiecewiseConstantDecay([1, 2], [0.1])
    with pytest.raises(ValueError, match="Valid names"):
        schedules.deserialize({"class_name": "LinearDecay", "config": {}})


def test_optimizer_with_schedule_round_trips_through_config():
    optimizer = optimizers.Adam(learning_rate=schedules.InverseTimeDecay(0.1, 1, 0.5))
    again = optimizers.deserialize(json.loads(json.dumps(optimizers.serialize(optimizer))))
    assert isinstance(again._schedule, schedules.InverseTimeDecay)
    assert again.get_config() == optimizer.get_config()


# ----- saved variables: order, shapes, round trip -----
def test_adam_variables_follow_the_keras_saved_order():
    variables = make_variables(MLP_SHAPES)
    optimizer = optimizers.Adam()
    assert [v.shape for v in optimizer.variables] == [(), ()]  # compiled, never trained
    optimizer.build(variables)
    state = optimizer.variables
    assert len(state) == 10
    assert [v.shape for v in state] == [(), (), (784, 128), (784, 128), (128,), (128,),
                                        (128, 10), (128, 10), (10,), (10,)]
    assert state[0].dtype == np.int64 and all(v.dtype == np.float32 for v in state[1:])
    assert optimizer._variable_names()[:4] == ["iteration", "learning_rate", "v0_momentum",
                                               "v0_velocity"]
    buffer = ParameterBuffer(variables)
    buffer.grad[:] = 1.0
    optimizer.apply_buffer(buffer)
    state = optimizer.variables  # views: they show the new state
    assert int(state[0]) == 1
    np.testing.assert_allclose(state[2], 0.1, rtol=1e-6)   # momentum = 0.1 g
    np.testing.assert_allclose(state[3], 0.001, rtol=1e-6)  # velocity = 0.001 g^2


@pytest.mark.parametrize("name,options,slots", [
    ("SGD", {}, []),
    ("SGD", {"momentum": 0.9}, [["momentum"]]),
    ("Adam", {"amsgrad": True}, [["momentum", "velocity"], ["velocity_hat"]]),
    ("RMSprop", {}, [["velocity"]]),
    ("RMSprop", {"momentum": 0.5, "centered": True},
     [["velocity"], ["momentum"], ["average_gradient"]]),
    ("Adagrad", {}, [["accumulator"]]),
    ("Adadelta", {}, [["accumulated_grad", "accumulated_delta_var"]]),
    ("Adamax", {}, [["momentum", "norm"]]),
    ("Nadam", {}, [["momentum", "velocity"]]),
])
def test_slot_order_per_optimizer(name, options, slots):
    variables = make_variables()
    optimizer = make_optimizer(name, **options)
    optimizer.build(variables)
    expected = ["iteration", "learning_rate"]
    for group in slots:  # names of one group are interleaved per variable
        expected += [f"v{i}_{slot}" for i in range(len(variables)) for slot in group]
    if name == "Nadam":
        expected.append("u_product")
    assert optimizer._variable_names() == expected
    shapes = [(), ()] + [v.shape for group in slots for v in variables for _ in group]
    shapes += [()] if name == "Nadam" else []
    assert [v.shape for v in optimizer.variables] == shapes


def test_adagrad_accumulator_starts_at_its_initial_value():
    optimizer = optimizers.Adagrad(initial_accumulator_value=0.25)
    optimizer.build(make_variables())
    assert all((v == np.float32(0.25)).all() for v in optimizer.variables[2:])


@pytest.mark.parametrize("name", sorted(DEFAULTS))
def test_state_save_and_load_round_trip(name):
    grads = make_grads(steps=5)
    first_vars = make_variables()
    first = make_optimizer(name, learning_rate=0.05)
    for g in grads[:3]:
        first.apply(g, first_vars)
    saved = first.get_weights()
    store = {}
    first.save_own_variables(store)
    assert list(store) == [str(i) for i in range(len(saved))]

    second_vars = [Variable(v.numpy(), name=v.name) for v in first_vars]
    second = make_optimizer(name, learning_rate=0.9)
    second.build(second_vars)
    second.load_own_variables(store)
    assert second.iterations == 3 and second.learning_rate == first.learning_rate
    for g in grads[3:]:
        first.apply(g, first_vars)
        second.apply(g, second_vars)
    for a, b in zip(first_vars, second_vars):
        np.testing.assert_array_equal(a.data, b.data)
    third = make_optimizer(name)
    third.build(make_variables())
    third.set_weights(saved)
    for a, b in zip(third.variables, saved):
        np.testing.assert_array_equal(a, b)


def test_load_checks_counts_and_shapes_before_writing():
    optimizer = optimizers.Adam()
    with pytest.raises(ValueError, match=r"has 2 variables.*10 values.*build"):
        optimizer.load_own_variables([np.zeros(())] * 10)
    optimizer.build(make_variables(MLP_SHAPES))
    values = [np.array(5), np.array(0.5, np.float32)]
    values += [np.ones(v.shape, np.float32) for v in optimizer.variables[2:]]
    values[-1] = np.ones((11,), np.float32)
    with pytest.raises(ValueError, match=r"variable 9 \(v3_velocity\) has shape \(10,\)"):
        optimizer.load_own_variables(values)
    assert optimizer.iterations == 0 and not optimizer.variables[2].any()  # nothing written
    with pytest.raises(ValueError, match="has 10 variables"):
        optimizer.load_own_variables(values[:-1])


# ----- building, get / serialize, naming, errors -----
def test_automatic_names_are_unique_like_keras3():
    names = [optimizers.get(n).name for n in ("adam", "adam", "sgd", "rmsprop", "adagrad",
                                              "adamw", "Adam")]
    assert names == ["adam", "adam_1", "sgd", "rm_sprop", "adagrad", "adam_w", "adam_2"]
    assert optimizers.Adam(name="mine").name == "mine"


def test_get_accepts_names_dicts_classes_and_instances():
    assert type(optimizers.get("RMSPROP")) is optimizers.RMSprop
    assert type(optimizers.get("AdamW")) is optimizers.AdamW
    instance = optimizers.SGD()
    assert optimizers.get(instance) is instance
    assert type(optimizers.get(optimizers.Nadam)) is optimizers.Nadam
    keras3 = {"module": "keras.optimizers", "class_name": "Adam",
              "config": {"name": "adam", "learning_rate": 0.0010000000474974513},
              "registered_name": None}
    assert optimizers.get(keras3).get_config()["learning_rate"] == 0.0010000000474974513
    legacy = {"class_name": "SGD", "config": {"name": "SGD", "learning_rate": 0.01, "decay": 0.0,
                                              "momentum": 0.9, "nesterov": True}}
    sgd = optimizers.get(legacy)
    assert (sgd.name, sgd.momentum, sgd.nesterov) == ("SGD", 0.9, True)
    tf211 = {"class_name": "Custom>Adam", "config": {
        "name": "Adam", "weight_decay": None, "clipnorm": None, "global_clipnorm": None,
        "clipvalue": None, "use_ema": False, "ema_momentum": 0.99,
        "ema_overwrite_frequency": None, "jit_compile": True, "is_legacy_optimizer": False,
        "learning_rate": 0.0010000000474974513, "beta_1": 0.9, "beta_2": 0.999,
        "epsilon": 1e-07, "amsgrad": False}}
    assert type(optimizers.get(tf211)) is optimizers.Adam


@pytest.mark.parametrize("name", sorted(DEFAULTS))
def test_serialize_round_trip(name):
    optimizer = make_optimizer(name, learning_rate=0.05, clipnorm=2.0)
    data = json.loads(json.dumps(optimizers.serialize(optimizer)))
    assert data["module"] == "keras.optimizers" and data["class_name"] == name
    again = optimizers.deserialize(data)
    assert type(again) is type(optimizer) and again.get_config() == optimizer.get_config()
    assert optimizers.get(data).get_config() == optimizer.get_config()


def test_custom_objects_in_deserialize():
    class Mine(optimizers.SGD):
        pass

    again = optimizers.deserialize({"class_name": "Mine", "config": {"learning_rate": 0.5}},
                                   custom_objects={"Mine": Mine})
    assert type(again) is Mine and again.learning_rate == 0.5


def test_unknown_names_list_the_valid_ones():
    with pytest.raises(ValueError, match=r"Unknown optimizer 'adamm'.*Did you mean 'adam'.*"
                                         r"Valid names: adadelta, adagrad, adam, adamax"):
        optimizers.get("adamm")
    with pytest.raises(ValueError, match="Could not interpret optimizer identifier"):
        optimizers.get(3)
    with pytest.raises(ValueError, match="'class_name'"):
        optimizers.deserialize({"config": {}})


def test_keras2_lr_is_accepted_and_decay_is_refused():
    assert optimizers.Adam(lr=0.01).learning_rate == float(np.float32(0.01))
    assert optimizers.SGD(lr=0.5, learning_rate=0.5).learning_rate == 0.5
    with pytest.raises(ValueError, match="Pass the learning rate once"):
        optimizers.SGD(lr=0.5, learning_rate=0.1)
    with pytest.raises(ValueError, match=r"decay=0\.01.*InverseTimeDecay\(0\.001, "
                                         r"decay_steps=1, decay_rate=0\.01\)"):
        optimizers.Adam(decay=0.01)
    assert optimizers.Adam(decay=0.0).learning_rate == float(np.float32(0.001))


@pytest.mark.parametrize("kwargs,match", [
    ({"use_ema": True}, "use_ema=True"),
    ({"gradient_accumulation_steps": 4}, "gradient_accumulation_steps"),
    ({"loss_scale_factor": 128.0}, "loss_scale_factor"),
    ({"clipnorm": 1.0, "clipvalue": 1.0}, "Only one of"),
    ({"clipnorm": -1.0}, r"clipnorm.*> 0"),
    ({"global_clipnorm": 0}, r"global_clipnorm.*> 0"),
    ({"weight_decay": -0.1}, "weight_decay"),
    ({"learning_rate": "fast"}, "learning_rate='fast'"),
    ({"learning_rate": -1.0}, "non-negative"),
    ({"beta_1": 1.5}, r"beta_1.*\[0\.0, 1\.0\]"),
    ({"epsilon": None}, "epsilon"),
    ({"momentum": 0.9}, r"not recognized by Adam: \{'momentum': 0\.9\}"),
])
def test_constructor_errors_name_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        optimizers.Adam(**kwargs)


def test_other_constructor_errors():
    with pytest.raises(ValueError, match="weight_decay=None"):
        optimizers.AdamW(weight_decay=None)
    with pytest.raises(ValueError, match=r"momentum.*\[0\.0, 1\.0\]"):
        optimizers.SGD(momentum=1.5)


def test_apply_errors():
    variables = make_variables()
    optimizer = optimizers.SGD()
    with pytest.raises(ValueError, match="must already be built"):
        optimizer.apply([np.zeros(1)])
    with pytest.raises(ValueError, match="3 gradients for 2 variables"):
        optimizer.apply(make_grads(steps=1)[0], variables[:2])
    optimizer.apply(make_grads(steps=1)[0], variables)
    with pytest.raises(ValueError, match="Unknown variable"):
        optimizer.apply([np.zeros(1, np.float32)], [Variable(np.zeros(1, np.float32))])
    with pytest.raises(ValueError, match=r"shape \(2, 3\) does not match .* shape \(3, 2\)"):
        optimizer.apply([np.zeros((2, 3), np.float32)], variables[:1])
    with pytest.raises(ValueError, match="different ones"):
        optimizer.apply_buffer(ParameterBuffer(make_variables()))
    with pytest.raises(ValueError, match="one floating dtype"):
        optimizers.SGD().build([Variable(np.zeros(2, np.float32)), Variable(np.zeros(2))])


def test_float64_variables_get_float64_slots():
    w = Variable(np.ones(3))  # float64
    optimizer = optimizers.Adam()
    optimizer.apply([np.ones(3)], [w])
    assert optimizer.variables[2].dtype == np.float64 and w.data.dtype == np.float64


def test_empty_gradient_list_is_a_no_op():
    optimizer = optimizers.Adam()
    optimizer.apply([], [])
    assert optimizer.iterations == 0 and not optimizer.built


def test_repr_and_trainer_hooks():
    optimizer = optimizers.SGD()
    assert repr(optimizer) == "<SGD name=sgd, learning_rate=0.009999999776482582, iterations=0>"
    assert optimizer.scale_loss(3.0) == 3.0
    optimizer.finalize_variable_values([])


# ----- hyper-parameters must be finite and within the float type (issue 15, item 4) -----
@pytest.mark.parametrize("name, kwargs", [
    ("sgd", {"learning_rate": 1e300}), ("adam", {"learning_rate": float("inf")}),
    ("adam", {"epsilon": 1e300}), ("adam", {"epsilon": float("inf")}),
    ("rmsprop", {"momentum": 1e39}), ("adagrad", {"initial_accumulator_value": 1e40}),
    ("sgd", {"weight_decay": float("inf")}), ("adam", {"clipnorm": float("inf")}),
    ("adam", {"learning_rate": float("nan")}), ("sgd", {"momentum": 1.5}),
    ("adam", {"beta_1": -0.1}),
])
def test_hyper_parameters_out_of_range_are_refused(name, kwargs):
    from numkeras import optimizers

    (argument,) = kwargs
    with pytest.raises(ValueError, match=f"`{argument}`"):
        optimizers.get({"class_name": name, "config": kwargs})


def test_a_learning_rate_set_later_is_checked_too():
    from numkeras import optimizers

    optimizer = optimizers.SGD()
    with pytest.raises(ValueError, match="float32 can hold"):
        optimizer.learning_rate = 1e300
    assert optimizer.learning_rate == pytest.approx(0.01)


def test_a_schedule_returning_a_rate_beyond_float32_is_an_error_at_its_step():
    from numkeras import optimizers

    optimizer = optimizers.SGD(learning_rate=lambda: 1e300)
    with pytest.raises(ValueError, match="returned 1e\\+300 at iteration 0"):
        optimizer.learning_rate
    schedule = optimizers.schedules.ExponentialDecay(1.0, decay_steps=1, decay_rate=1e10)
    optimizer = optimizers.SGD(learning_rate=schedule)
    weights = Variable(np.ones(2, np.float32))
    for _ in range(4):  # rates 1, 1e10, 1e20, 1e30; then 1e40, beyond float32
        optimizer.apply([np.ones(2, np.float32)], [weights])
    with pytest.raises(ValueError, match="at iteration 4"):
        optimizer.apply([np.ones(2, np.float32)], [weights])
    assert np.isfinite(weights.data).all()
