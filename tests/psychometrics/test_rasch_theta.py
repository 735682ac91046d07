import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.integrate import quad
from scipy.optimize import minimize_scalar
from scipy.stats import norm

from psychometrics.rasch import (
    equated_conversion,
    estimate_theta,
    expected_score,
    information,
    theta_for_expected_score,
)
from psychometrics.scale import conversion_table, raw_passing_score


def logistic(z):
    # written out here rather than imported, so the tests do not share the code under test
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    return math.exp(z) / (1.0 + math.exp(z))


def difficulty_vectors(min_size=1, max_size=60):
    return arrays(
        float,
        st.integers(min_size, max_size),
        elements=st.floats(-3, 3, allow_nan=False, allow_infinity=False),
    )


@st.composite
def answered_tests(draw, min_size=1, max_size=40):
    b = draw(difficulty_vectors(min_size, max_size))
    x = np.array(draw(st.lists(st.sampled_from([0.0, 1.0]), min_size=b.size, max_size=b.size)))
    return x, b


# --- test characteristic curve ------------------------------------------------------------


def test_expected_score_scalar_and_vectorised():
    b = [-1.0, 0.0, 2.0]
    assert isinstance(expected_score(0.5, b), float)
    assert expected_score(0.0, [0.0]) == pytest.approx(0.5)
    thetas = np.array([[-1.0, 0.0], [1.0, 3.0]])
    e = expected_score(thetas, b)
    assert e.shape == (2, 2)
    assert e[1, 1] == pytest.approx(sum(logistic(3.0 - bi) for bi in b))


def test_expected_score_tends_to_zero_and_to_test_length():
    b = np.linspace(-2, 2, 9)
    assert expected_score(-60.0, b) == pytest.approx(0.0, abs=1e-20)
    assert expected_score(60.0, b) == pytest.approx(9.0)


@given(difficulty_vectors(), st.floats(-6, 6), st.floats(1e-3, 3))
def test_expected_score_is_increasing(b, theta, delta):
    assert expected_score(theta + delta, b) > expected_score(theta, b)


@given(difficulty_vectors(), st.floats(-5, 5))
def test_information_is_the_slope_of_the_expected_score(b, theta):
    h = 1e-5
    slope = (expected_score(theta + h, b) - expected_score(theta - h, b)) / (2 * h)
    assert information(theta, b) == pytest.approx(slope, rel=1e-6, abs=1e-12)


@given(difficulty_vectors(), st.floats(0.01, 0.99))
def test_theta_for_expected_score_inverts_the_curve(b, u):
    score = u * b.size
    assert expected_score(theta_for_expected_score(score, b), b) == pytest.approx(score, abs=1e-9)


def test_theta_for_expected_score_ends_and_range():
    b = [0.0, 1.0]
    assert theta_for_expected_score([0.0, 2.0], b).tolist() == [-math.inf, math.inf]
    with pytest.raises(ValueError):
        theta_for_expected_score(2.5, b)


# --- MLE -----------------------------------------------------------------------------


@pytest.mark.parametrize("b", [-1.7, 0.0, 0.3, 2.4])
def test_mle_one_right_of_two_equal_items_is_their_difficulty(b):
    theta, se = estimate_theta(np.array([1.0, 0.0]), np.array([b, b]), method="mle")
    assert theta == pytest.approx(b, abs=1e-12)
    # information at theta = b is 2 * 0.5 * 0.5
    assert se == pytest.approx(1 / math.sqrt(0.5))


@pytest.mark.parametrize(("r", "n", "b"), [(1, 5, 0.0), (3, 4, -1.0), (17, 40, 0.8)])
def test_mle_equal_difficulties_closed_form(r, n, b):
    x = np.array([1.0] * r + [0.0] * (n - r))
    theta, _ = estimate_theta(x, np.full(n, b), method="mle")
    assert theta == pytest.approx(b + math.log(r / (n - r)), abs=1e-10)


@given(answered_tests(min_size=2))
def test_mle_satisfies_score_equation_and_se_is_inverse_root_information(case):
    x, b = case
    r = x.sum()
    theta, se = estimate_theta(x, b, method="mle")
    if r == 0 or r == b.size:
        assert (theta, se) == (math.copysign(math.inf, r - 0.5), math.inf)
        return
    assert expected_score(theta, b) == pytest.approx(r, abs=1e-9)
    info = sum(logistic(theta - bi) * (1 - logistic(theta - bi)) for bi in b)
    assert se == pytest.approx(1 / math.sqrt(info), rel=1e-9)


def test_mle_extreme_scores_are_unbounded():
    b = np.array([-1.0, 0.0, 1.0])
    assert estimate_theta(np.ones(3), b, method="mle") == (math.inf, math.inf)
    assert estimate_theta(np.zeros(3), b, method="mle") == (-math.inf, math.inf)


# --- WLE -----------------------------------------------------------------------------


@pytest.mark.parametrize(("r", "n", "b"), [(0, 5, 0.0), (2, 4, 1.0), (5, 5, -0.5), (9, 30, 0.2)])
def test_wle_equal_difficulties_closed_form(r, n, b):
    # With equal difficulties I'/I = 1 - 2P, so Warm's equation r - nP + (1 - 2P) / 2 = 0
    # gives P = (r + 1/2) / (n + 1).
    x = np.array([1.0] * r + [0.0] * (n - r))
    theta, se = estimate_theta(x, np.full(n, b), method="wle")
    assert theta == pytest.approx(b + math.log((r + 0.5) / (n - r + 0.5)), abs=1e-10)
    p = (r + 0.5) / (n + 1)
    assert se == pytest.approx(1 / math.sqrt(n * p * (1 - p)), rel=1e-9)


@settings(deadline=None)
@given(answered_tests())
def test_wle_maximises_weighted_likelihood(case):
    x, b = case
    theta, se = estimate_theta(x, b, method="wle")

    def neg_weighted_loglik(t):
        p = 1 / (1 + np.exp(-(t - b)))
        return -(np.sum(x * np.log(p) + (1 - x) * np.log1p(-p)) + 0.5 * np.log(np.sum(p * (1 - p))))

    best = minimize_scalar(neg_weighted_loglik, bounds=(-15, 15), method="bounded",
                           options={"xatol": 1e-10})  # fmt: skip
    assert math.isfinite(theta)
    assert theta == pytest.approx(best.x, abs=1e-5)
    assert se == pytest.approx(1 / math.sqrt(information(theta, b)), rel=1e-12)


@given(answered_tests(min_size=2))
def test_wle_lies_between_mle_for_half_a_point_less_and_more(case):
    x, b = case
    r, n = x.sum(), b.size
    theta, _ = estimate_theta(x, b, method="wle")
    lower = theta_for_expected_score(max(r - 0.5, 0.0), b)
    upper = theta_for_expected_score(min(r + 0.5, n), b)
    assert lower < theta < upper


def test_wle_is_finite_for_perfect_and_zero_scores():
    b = np.linspace(-2, 2, 97)
    top, se_top = estimate_theta(np.ones(97), b, method="wle")
    bottom, se_bottom = estimate_theta(np.zeros(97), b, method="wle")
    assert math.isfinite(top) and math.isfinite(se_top) and top > 2
    assert math.isfinite(bottom) and math.isfinite(se_bottom) and bottom < -2
    assert top == pytest.approx(-bottom)


# --- EAP ------------------------------------------------------------------------------


def posterior_moments_by_quad(x, b):
    def likelihood(t):
        p = np.array([logistic(t - bi) for bi in b])
        return float(np.prod(np.where(np.asarray(x) == 1, p, 1 - p)))

    def moment(k):
        return quad(lambda t: t**k * norm.pdf(t) * likelihood(t), -np.inf, np.inf,
                    epsabs=1e-13, epsrel=1e-12)[0]  # fmt: skip

    z = moment(0)
    mean = moment(1) / z
    return mean, math.sqrt(moment(2) / z - mean**2)


@pytest.mark.parametrize("b", [-2.0, 0.0, 0.7, 3.0])
@pytest.mark.parametrize("x", [0.0, 1.0])
def test_eap_one_item_matches_numeric_integration(x, b):
    mean, sd = posterior_moments_by_quad([x], [b])
    theta, se = estimate_theta(np.array([x]), np.array([b]), method="eap")
    assert theta == pytest.approx(mean, abs=1e-8)
    assert se == pytest.approx(sd, abs=1e-8)


def test_eap_small_test_matches_numeric_integration():
    b = [-1.2, -0.3, 0.4, 1.5, 2.0]
    x = [1.0, 1.0, 0.0, 1.0, 0.0]
    mean, sd = posterior_moments_by_quad(x, b)
    theta, se = estimate_theta(np.array(x), np.array(b), method="eap")
    assert theta == pytest.approx(mean, abs=1e-8)
    assert se == pytest.approx(sd, abs=1e-8)


def test_eap_long_perfect_score_is_finite_and_narrow():
    theta, se = estimate_theta(np.ones(97), np.linspace(-2, 2, 97), method="eap")
    assert 2 < theta < 6
    assert 0 < se < 1


def test_eap_with_nothing_presented_is_the_prior():
    theta, se = estimate_theta(np.array([math.nan, math.nan]), np.array([0.0, 1.0]), method="eap")
    assert theta == pytest.approx(0.0, abs=1e-12)
    assert se == pytest.approx(1.0, abs=1e-9)


# --- all methods ------------------------------------------------------------------------


@settings(deadline=None)
@given(answered_tests(), st.sampled_from(["mle", "wle", "eap"]))
def test_flipping_responses_and_negating_difficulties_negates_theta(case, method):
    x, b = case
    theta, se = estimate_theta(x, b, method=method)
    flipped, flipped_se = estimate_theta(1 - x, -b, method=method)
    assert flipped == pytest.approx(-theta, abs=1e-8)
    assert flipped_se == pytest.approx(se, abs=1e-8)


@pytest.mark.parametrize("method", ["mle", "wle", "eap"])
def test_items_not_presented_are_ignored(method):
    b = np.array([-1.0, -0.5, 0.0, 0.5, 1.0, 1.5])
    x = np.array([1.0, math.nan, 1.0, 0.0, math.nan, 0.0])
    shown = ~np.isnan(x)
    assert estimate_theta(x, b, method=method) == pytest.approx(
        estimate_theta(x[shown], b[shown], method=method)
    )


def test_default_method_is_wle():
    x, b = np.array([1.0, 0.0, 1.0]), np.array([0.0, 0.5, 1.0])
    assert estimate_theta(x, b) == estimate_theta(x, b, method="wle")


@pytest.mark.parametrize(
    ("x", "b", "method", "message"),
    [
        ([1.0, 2.0], [0.0, 0.0], "wle", "responses must be"),
        ([1.0], [0.0, 0.0], "wle", "1 responses for 2"),
        ([1.0], [0.0], "ml", "unknown method"),
        ([math.nan], [0.0], "mle", "no items presented"),
        ([math.nan], [0.0], "wle", "no items presented"),
        ([1.0], [math.inf], "wle", "finite"),
    ],
)
def test_invalid_input_is_rejected(x, b, method, message):
    with pytest.raises(ValueError, match=message):
        estimate_theta(np.array(x), np.array(b), method=method)


# --- true-score equating -------------------------------------------------------------------


@st.composite
def forms_with_cut(draw, min_size=5, max_size=120):
    b = draw(difficulty_vectors(min_size, max_size))
    cut = draw(
        st.one_of(
            st.floats(0.01, b.size - 0.01),
            st.integers(1, b.size - 1).map(float),
        )
    )
    return b, cut


@settings(deadline=None)
@given(forms_with_cut())
def test_equating_a_form_with_itself_gives_its_own_table(case):
    b, cut = case
    assert equated_conversion(b, b, cut) == conversion_table(b.size, cut)


def test_equating_a_form_with_itself_hand_example():
    b = np.linspace(-2, 2, 20)
    assert equated_conversion(b, b, 15.2) == conversion_table(20, 15.2)
    assert equated_conversion(b, b, 19.5) == conversion_table(20, 19.5)


def first_passing(table):
    return next(r for r, s in enumerate(table) if s >= 300)


@settings(deadline=None)
@given(forms_with_cut(), st.floats(0.0, 1.5))
def test_a_harder_form_needs_an_equal_or_lower_raw_score(case, shift):
    b, cut = case
    base_table = conversion_table(b.size, cut)
    harder = equated_conversion(b + shift, b, cut)
    assert first_passing(harder) <= first_passing(base_table)
    assert all(h >= s for h, s in zip(harder, base_table, strict=True))


@settings(deadline=None)
@given(forms_with_cut(), difficulty_vectors(2, 120))
def test_same_ability_passes_on_every_form(case, form):
    base, cut = case
    table = equated_conversion(form, base, cut)
    n = form.size
    theta_cut = theta_for_expected_score(cut, base)
    thetas = theta_for_expected_score(np.arange(1, n, dtype=float), form)

    assert len(table) == n + 1
    assert table[0] == 100 and table[-1] == 400
    assert all(a <= b for a, b in zip(table, table[1:], strict=False))
    r_pass = first_passing(table)
    if r_pass < n:
        assert table[r_pass] == 300
    for r, theta in enumerate(thetas, start=1):
        if abs(theta - theta_cut) > 1e-7:  # away from the 1e-9 rounding tolerance
            assert (table[r] >= 300) == (theta > theta_cut)


def test_equating_to_a_longer_base_form():
    base = np.linspace(-2, 2, 100)
    form = np.linspace(-2, 2, 50)
    table = equated_conversion(form, base, 60.0)
    # Same item spread, half the length: the cut sits at the same proportion of the raw scale.
    assert first_passing(table) == raw_passing_score(30.0)
    assert table[30] == 300


def test_equating_validates_the_base_cut():
    b = np.zeros(10)
    with pytest.raises(ValueError):
        equated_conversion(b, b, 10.0)
    with pytest.raises(ValueError):
        equated_conversion(b, b, 0.0)
    with pytest.raises(ValueError):
        equated_conversion(np.array([]), b, 5.0)
