"""numkeras.random: Keras's seed rules, shapes and dtypes, and the distributions' moments."""

import doctest

import numpy as np
import pytest

import numkeras
from numkeras import random
from numkeras.backprop import Tensor, check_grads

DRAWS = {
    "normal": lambda seed: random.normal((4, 3), seed=seed),
    "uniform": lambda seed: random.uniform((4, 3), seed=seed),
    "randint": lambda seed: random.randint((4, 3), 0, 100, seed=seed),
    "truncated_normal": lambda seed: random.truncated_normal((4, 3), seed=seed),
    "dropout": lambda seed: random.dropout(np.ones((4, 3), np.float32), 0.5, seed=seed),
    "shuffle": lambda seed: random.shuffle(np.arange(12), seed=seed),
    "categorical": lambda seed: random.categorical(np.zeros((4, 3)), 5, seed=seed),
    "gamma": lambda seed: random.gamma((4, 3), 2.0, seed=seed),
    "beta": lambda seed: random.beta((4, 3), 2.0, 3.0, seed=seed),
    "binomial": lambda seed: random.binomial((4, 3), 10, 0.3, seed=seed),
}


def test_every_function_is_exercised():
    assert set(DRAWS) | {"SeedGenerator"} == set(random.__all__)


@pytest.mark.parametrize("name", sorted(DRAWS))
def test_an_int_seed_gives_the_same_numbers_every_call(name):
    first, second = DRAWS[name](3).numpy(), DRAWS[name](3).numpy()
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, DRAWS[name](4).numpy()) or name == "categorical"


@pytest.mark.parametrize("name", sorted(DRAWS))
def test_set_random_seed_repeats_unseeded_runs(name):
    numkeras.config.set_random_seed(11)
    run_a = [DRAWS[name](None).numpy() for _ in range(2)]
    numkeras.config.set_random_seed(11)
    run_b = [DRAWS[name](None).numpy() for _ in range(2)]
    np.testing.assert_array_equal(run_a[0], run_b[0])
    np.testing.assert_array_equal(run_a[1], run_b[1])
    assert not np.array_equal(run_a[0], run_a[1])  # successive unseeded calls differ


def test_utils_set_random_seed_is_the_same_switch():
    numkeras.utils.set_random_seed(5)
    a = random.normal((3,)).numpy()
    numkeras.utils.set_random_seed(5)
    np.testing.assert_array_equal(a, random.normal((3,)).numpy())


def test_seed_generator_advances_and_repeats():
    gen_a, gen_b = random.SeedGenerator(9), random.SeedGenerator(9)
    a1, a2 = random.normal((4,), seed=gen_a).numpy(), random.normal((4,), seed=gen_a).numpy()
    b1 = random.normal((4,), seed=gen_b).numpy()
    assert not np.array_equal(a1, a2)
    np.testing.assert_array_equal(a1, b1)
    assert gen_a.state.numpy().tolist() == [9, 2]
    assert random.SeedGenerator.from_config(gen_a.get_config()).next().tolist() == [9, 0]
    numkeras.config.set_random_seed(2)
    unseeded = random.SeedGenerator().next()
    numkeras.config.set_random_seed(2)
    assert random.SeedGenerator().next().tolist() == unseeded.tolist()


def test_shapes_and_dtypes_follow_keras():
    assert random.normal((2, 3)).dtype == np.float32
    assert random.uniform(4, dtype="float64").shape == (4,)
    assert random.randint((2,), 0, 5).dtype == np.int32
    assert random.randint((2,), 0, 5, dtype="int64").dtype == np.int64
    assert random.categorical(np.zeros((2, 4)), 6).shape == (2, 6)
    assert random.binomial((3,), 5, 0.5).dtype == np.float32
    assert random.dropout(np.ones((2, 3)), 0.2).dtype == np.float64  # keeps the input's float
    with pytest.raises(ValueError, match="random.uniform draws floats"):
        random.uniform((2,), dtype="int32")
    with pytest.raises(ValueError, match="seed must be"):
        random.normal((2,), seed=-1)
    with pytest.raises(ValueError, match="rate must lie in"):
        random.dropout(np.ones(2), 1.0)


def test_moments_of_the_distributions():
    n = 200_000
    normal = random.normal((n,), mean=2.0, stddev=3.0, seed=0).numpy()
    assert abs(normal.mean() - 2.0) < 0.03 and abs(normal.std() - 3.0) < 0.03
    uniform = random.uniform((n,), -1.0, 3.0, seed=0).numpy()
    assert uniform.min() >= -1.0 and uniform.max() < 3.0 and abs(uniform.mean() - 1.0) < 0.02
    truncated = random.truncated_normal((n,), mean=1.0, stddev=2.0, seed=0).numpy()
    assert np.abs(truncated - 1.0).max() <= 4.0
    assert abs(truncated.std() - 2.0 * 0.8796) < 0.02  # std of N(0, 1) cut at +-2
    ints = random.randint((n,), 3, 7, seed=0).numpy()
    assert set(np.unique(ints)) == {3, 4, 5, 6}
    gamma = random.gamma((n,), 2.5, seed=0).numpy()
    assert abs(gamma.mean() - 2.5) < 0.03
    beta = random.beta((n,), 2.0, 6.0, seed=0).numpy()
    assert abs(beta.mean() - 0.25) < 0.005
    binomial = random.binomial((n,), 10, 0.3, seed=0).numpy()
    assert abs(binomial.mean() - 3.0) < 0.02


def test_categorical_follows_the_logits():
    logits = np.log(np.array([[0.2, 0.5, 0.3], [0.9, 0.05, 0.05]]))
    draws = random.categorical(logits, 50_000, seed=1).numpy()
    for row, p in zip(draws, np.exp(logits)):
        np.testing.assert_allclose(np.bincount(row, minlength=3) / row.size, p, atol=0.01)


def test_dropout_keeps_the_expected_fraction_and_shares_noise():
    out = random.dropout(np.ones((100, 1000), np.float32), 0.3, seed=0).numpy()
    assert abs((out == 0).mean() - 0.3) < 0.005
    np.testing.assert_allclose(out[out != 0], 1 / 0.7, rtol=1e-6)
    shared = random.dropout(np.ones((4, 5)), 0.5, noise_shape=(None, 1), seed=0).numpy()
    assert (shared == shared[:, :1]).all()


def test_dropout_and_shuffle_are_differentiable():
    assert check_grads(lambda x: random.dropout(x, 0.4, seed=3), np.ones((3, 4)))
    assert check_grads(lambda x: random.shuffle(x, axis=1, seed=3) * Tensor([1.0, 2.0, 3.0]),
                       np.arange(6.0).reshape(2, 3))


def test_docstring_examples():
    result = doctest.testmod(random, extraglobs={"np": np})
    assert result.failed == 0 and result.attempted > 0
