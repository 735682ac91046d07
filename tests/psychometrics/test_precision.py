"""Information, conditional SEM, probability of passing and Rudner's classification indices.

Reference values come from scipy.integrate over the normal error distribution, a seeded
Monte Carlo, and finite differences of the test characteristic curve, not from the module.
"""

import dataclasses
import math
import warnings

import numpy as np
import pytest
from scipy.integrate import quad

from psychometrics import precision
from psychometrics.precision import classification_indices, conditional_sem, probability_of_passing

B = np.array([-2.1, -1.3, -0.4, 0.0, 0.3, 0.9, 1.7, 2.5])


def expected_score(theta, b):
    # written out here so the reference does not share the code under test
    return sum(1.0 / (1.0 + math.exp(-(theta - bi))) for bi in b)


def mass_above(theta_hat, se, cut):
    """P(true theta >= cut) for true theta ~ N(theta_hat, se^2), by quadrature."""
    scale = 1.0 / (se * math.sqrt(2.0 * math.pi))

    def density(t):
        return scale * math.exp(-0.5 * ((t - theta_hat) / se) ** 2)

    value, _ = quad(density, cut, np.inf, epsabs=1e-13)
    return value


# --- information and conditional SEM -------------------------------------------------------


@pytest.mark.parametrize("theta", [-4.0, -1.0, 0.0, 0.35, 2.0, 6.0])
def test_information_is_the_slope_of_the_test_characteristic_curve(theta):
    h = 1e-5
    slope = (expected_score(theta + h, B) - expected_score(theta - h, B)) / (2 * h)
    assert precision.test_information(B, theta) == pytest.approx(slope, rel=1e-7)


def test_information_and_sem_keep_the_shape_of_theta():
    theta = np.linspace(-3, 3, 12).reshape(3, 4)
    info = precision.test_information(B, theta)
    sem = conditional_sem(B, theta)
    assert info.shape == sem.shape == (3, 4)
    for index in np.ndindex(theta.shape):
        assert info[index] == pytest.approx(precision.test_information(B, float(theta[index])))
    np.testing.assert_allclose(sem, 1.0 / np.sqrt(info))
    assert isinstance(precision.test_information(B, 0.0), float)
    assert isinstance(conditional_sem(B, 0.0), float)


def test_information_of_a_long_theta_array_is_computed_in_blocks_consistently(monkeypatch):
    theta = np.linspace(-5, 5, 1001)
    whole = precision.test_information(B, theta)
    monkeypatch.setattr(precision, "_BLOCK_CELLS", 24)  # three thetas per block
    np.testing.assert_array_equal(precision.test_information(B, theta), whole)


def test_one_item_at_its_difficulty_has_information_one_quarter_and_sem_two():
    assert precision.test_information([0.7], 0.7) == 0.25
    assert conditional_sem([0.7], 0.7) == 2.0


def test_information_far_from_the_items_stays_positive_then_sem_becomes_infinite_quietly():
    # 40 logits above every item: P(1 - P) ~ exp(-40), still representable.
    assert precision.test_information(B, 45.0) > 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sem = conditional_sem(B, np.array([0.0, 1000.0, -1000.0]))
    assert np.isfinite(sem[0])
    assert sem[1] == sem[2] == math.inf


def test_nan_theta_gives_nan_information():
    assert math.isnan(precision.test_information(B, math.nan))


@pytest.mark.parametrize(
    ("b", "message"),
    [
        ([], "non-empty 1-D"),
        ([[0.0, 1.0]], "non-empty 1-D"),
        ([0.0, math.nan], "finite"),
        ([0.0, math.inf], "finite"),
    ],
)
def test_invalid_difficulties_are_refused(b, message):
    with pytest.raises(ValueError, match=message):
        precision.test_information(b, 0.0)
    with pytest.raises(ValueError, match=message):
        conditional_sem(b, 0.0)


# --- probability of passing ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("theta", "se", "cut"),
    [(0.4, 0.3, 0.0), (-0.2, 0.35, 0.1), (1.9, 0.5, 2.0), (0.0, 1.0, 0.0), (-3.0, 0.25, -2.0)],
)
def test_probability_of_passing_is_the_normal_mass_above_the_cut(theta, se, cut):
    assert probability_of_passing(theta, se, cut) == pytest.approx(
        mass_above(theta, se, cut), abs=1e-10
    )


def test_probability_of_passing_broadcasts_and_handles_zero_and_infinite_se():
    theta = np.array([[-0.5, 0.0, 0.5], [-0.5, 0.0, 0.5]])
    se = np.array([[0.0], [math.inf]])
    p = probability_of_passing(theta, se, 0.0)
    np.testing.assert_array_equal(p, [[0.0, 1.0, 1.0], [0.5, 0.5, 0.5]])
    assert isinstance(probability_of_passing(0.3, 0.2, 0.0), float)
    assert probability_of_passing(math.inf, 0.3, 0.0) == 1.0
    assert probability_of_passing(-math.inf, 0.3, 0.0) == 0.0


def test_probability_of_passing_is_nan_where_undefined():
    p = probability_of_passing([math.nan, 0.0, math.inf], [0.3, math.nan, math.inf], 0.0)
    assert np.isnan(p).all()


def test_probability_of_passing_refuses_negative_se_and_a_non_finite_cut():
    with pytest.raises(ValueError, match="must not be negative"):
        probability_of_passing([0.0, 1.0], [0.3, -0.1], 0.0)
    with pytest.raises(ValueError, match="cut must be a finite number"):
        probability_of_passing(0.0, 0.3, math.nan)


# --- Rudner's classification indices -------------------------------------------------------


def simulated_estimates(seed, n=200):
    rng = np.random.default_rng(seed)
    theta = rng.normal(0.3, 1.0, n)
    se = conditional_sem(B, theta) * 0.5 + rng.uniform(0.05, 0.2, n)
    return theta, se


@pytest.mark.parametrize("seed", [1, 2])
def test_accuracy_matches_integration_over_each_persons_error_distribution(seed):
    theta, se = simulated_estimates(seed)
    cut = 0.25
    above = np.array([mass_above(t, s, cut) for t, s in zip(theta, se, strict=True)])
    passed = theta >= cut
    indices = classification_indices(theta, se, cut)
    assert indices.accuracy == pytest.approx(np.mean(np.where(passed, above, 1 - above)), abs=1e-9)
    assert indices.false_positive == pytest.approx(np.mean(passed * (1 - above)), abs=1e-9)
    total = indices.accuracy + indices.false_positive + indices.false_negative
    assert total == pytest.approx(1.0, abs=1e-12)
    assert indices.n_persons == 200


def test_consistency_and_accuracy_match_a_monte_carlo_of_replications():
    theta, se = simulated_estimates(3)
    cut = 0.25
    rng = np.random.default_rng(99)
    draws = 4000
    first = rng.normal(theta[:, None], se[:, None], (theta.size, draws)) >= cut
    second = rng.normal(theta[:, None], se[:, None], (theta.size, draws)) >= cut
    observed = (theta >= cut)[:, None]
    consistency_mc = np.mean(first == second)
    accuracy_mc = np.mean(first == observed)

    indices = classification_indices(theta, se, cut)
    # 800,000 draws: the Monte Carlo standard error is below 0.0006.
    assert indices.consistency == pytest.approx(consistency_mc, abs=0.003)
    assert indices.accuracy == pytest.approx(accuracy_mc, abs=0.003)

    pass_rate = np.mean(first)
    chance = pass_rate**2 + (1 - pass_rate) ** 2
    assert indices.kappa == pytest.approx((consistency_mc - chance) / (1 - chance), abs=0.01)


def test_exact_estimates_classify_perfectly_and_estimates_at_the_cut_are_a_coin_toss():
    exact = classification_indices([-1.0, 0.0, 2.0], 0.0, 0.0)
    assert (exact.accuracy, exact.consistency, exact.false_positive, exact.false_negative) == (
        1.0,
        1.0,
        0.0,
        0.0,
    )
    at_cut = classification_indices([0.5, 0.5], [0.2, 0.4], 0.5)
    assert at_cut.accuracy == 0.5
    assert at_cut.consistency == 0.5
    assert at_cut.false_positive == 0.5  # both observed to pass
    assert at_cut.kappa == 0.0


def test_kappa_is_nan_when_everybody_surely_passes():
    assert math.isnan(classification_indices([3.0, 4.0], 0.0, 0.0).kappa)


def test_classification_indices_are_immutable():
    indices = classification_indices([0.0, 1.0], 0.3, 0.5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        indices.accuracy = 1.0


@pytest.mark.parametrize(
    ("theta", "se", "cut", "message"),
    [
        ([], 0.3, 0.0, "at least one person"),
        ([0.0, math.nan], 0.3, 0.0, "must not contain NaN"),
        ([0.0, 1.0], [0.3, math.nan], 0.0, "must not contain NaN"),
        ([0.0, 1.0], [0.3, -0.3], 0.0, "must not be negative"),
        ([math.inf, 1.0], [math.inf, 0.3], 0.0, "infinite theta needs a finite se"),
        ([[0.0, 1.0], [0.0, 1.0]], 0.3, 0.0, "one value per person"),
        ([0.0, 1.0], [0.3, 0.3, 0.3], 0.0, "broadcast"),
        ([0.0, 1.0], 0.3, math.inf, "cut must be a finite number"),
    ],
)
def test_invalid_classification_input_is_refused(theta, se, cut, message):
    with pytest.raises(ValueError, match=message):
        classification_indices(theta, se, cut)
