"""Rasch calibration: published reference values, parameter recovery, designs, edge cases.

Published reference values used here
------------------------------------
* MML, LSAT-6 and Abortion data: R package ltm (Rizopoulos 2006, "ltm: An R package for
  latent variable modeling and item response theory analyses", J. Stat. Software 17(5)),
  ``rasch(data, constraint = cbind(ncol(data) + 1, 1))``, i.e. the Rasch model with
  abilities N(0, 1), marginal ML with 21-point Gauss-Hermite quadrature. The full-precision
  output (difficulties and log-likelihood, and the log-likelihood with 15/21/41 quadrature
  points) is the ltm output exported by github.com/Paulius-Satkus/IRT_Basics,
  tests/ltm_reference/{lsat_rasch_fixed_params.csv, lsat_rasch_fixed_loglik.txt,
  quadpts_comparison.csv, abortion_rasch_params.csv, abortion_rasch_loglik.txt} (commit
  b8cd5557ceef969425ab3914f3860d8e661b9824).
* ltm's ``rasch(LSAT)`` with a free common discrimination: Dffclt -3.6153, -1.3224,
  -0.3176, -1.7301, -2.7802, Dscrmn 0.7551, log.Lik -2466.938 (full precision in the same
  IRT_Basics directory, lsat_rasch_estimated_params.csv; the rounded ``summary`` is also
  printed in R. Ziedzor's public "Bayesian IRT" R Markdown notes, 2020). That model
  (Rasch with abilities N(0, sigma^2)) is not CML, but for LSAT-6, where a normal ability
  distribution fits, the CML estimates must be close to its centred logit difficulties
  sigma * b*.
* No published CML estimates for these data sets could be found with the tools available
  while writing this (eRm/psychotools output for LSAT or Abortion was searched for and not
  found), so CML is checked against an independent brute-force computation of the
  conditional likelihood (enumerating every response pattern), against the ltm model
  above, and by recovery of known parameters.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import minimize

from psychometrics.calibration import Calibration, calibrate

DATA = Path(__file__).parent / "data"

# ltm 'rasch(LSAT, constraint = cbind(ncol(LSAT) + 1, 1))' (see module docstring).
LTM_LSAT_B = [
    -2.87197119854978,
    -1.06302941844366,
    -0.257610878680845,
    -1.38805883083614,
    -2.21877845496312,
]
LTM_LSAT_LOGLIK = -2473.054  # 21 points; -2473.05384725079 with 41 points
LTM_ABORTION_B = [0.333878134595703, -0.482799538686081, -0.713814576852628, -0.611722555026264]
LTM_ABORTION_LOGLIK = -852.8413
# ltm 'rasch(LSAT)' (common discrimination estimated)
LTM_LSAT_FREE_B = [
    -3.61526653301106,
    -1.322420829256,
    -0.317630649253637,
    -1.73009039272009,
    -2.78017168730704,
]
LTM_LSAT_FREE_A = 0.755134726289653


def load_patterns(name: str) -> np.ndarray:
    """Expand a 'pattern columns..., frequency' CSV (with # comment lines) to a matrix."""
    lines = (DATA / name).read_text().splitlines()
    rows = [line.split(",") for line in lines if line and not line.startswith("#")][1:]
    table = np.array(rows, dtype=int)
    return np.repeat(table[:, :-1], table[:, -1], axis=0).astype(float)


@pytest.fixture(scope="module")
def lsat() -> np.ndarray:
    return load_patterns("lsat6_patterns.csv")


@pytest.fixture(scope="module")
def abortion() -> np.ndarray:
    return load_patterns("abortion_patterns.csv")


def simulate(rng, theta, b, *, present=None):
    p = 1.0 / (1.0 + np.exp(-(theta[:, None] - b[None, :])))
    x = (rng.random(p.shape) < p).astype(float)
    if present is not None:
        x[~present] = np.nan
    return x


# --------------------------------------------------------------------------------------
# Published values
# --------------------------------------------------------------------------------------


def test_lsat_data_file_is_the_published_bock_lieberman_table(lsat):
    assert lsat.shape == (1000, 5)
    # Item means printed by R's summary() of psych's lsat6 (e.g. in github.com/psygrammer/
    # dsur, sp_irt/irt.md): 0.924 0.709 0.553 0.763 0.87
    np.testing.assert_allclose(lsat.mean(axis=0), [0.924, 0.709, 0.553, 0.763, 0.870])


def test_mml_reproduces_ltm_rasch_on_lsat(lsat):
    cal = calibrate(lsat, method="mml")
    np.testing.assert_allclose(cal.difficulties, LTM_LSAT_B, atol=2e-4)
    assert cal.log_likelihood == pytest.approx(LTM_LSAT_LOGLIK, abs=1e-3)
    assert cal.converged
    assert cal.method == "mml"


def test_mml_reproduces_ltm_rasch_on_abortion(abortion):
    cal = calibrate(abortion, method="mml")
    np.testing.assert_allclose(cal.difficulties, LTM_ABORTION_B, atol=2e-4)
    assert cal.log_likelihood == pytest.approx(LTM_ABORTION_LOGLIK, abs=1e-3)


def test_mml_standard_errors_match_numerical_hessian_of_marginal_likelihood(lsat):
    from numpy.polynomial.hermite_e import hermegauss

    nodes, weights = hermegauss(61)
    weights = weights / weights.sum()
    patterns, counts = np.unique(lsat, axis=0, return_counts=True)

    def loglik(b):
        p = 1 / (1 + np.exp(-(nodes[None, :] - b[:, None])))  # items x nodes
        like = np.exp(patterns @ np.log(p) + (1 - patterns) @ np.log(1 - p))
        return counts @ np.log(like @ weights)

    cal = calibrate(lsat, method="mml")
    b, h = cal.difficulties, 1e-4
    eye = np.eye(5) * h
    hess = np.array(
        [
            [
                (
                    loglik(b + eye[i] + eye[j])
                    - loglik(b + eye[i] - eye[j])
                    - loglik(b - eye[i] + eye[j])
                    + loglik(b - eye[i] - eye[j])
                )
                / (4 * h * h)
                for j in range(5)
            ]
            for i in range(5)
        ]
    )
    np.testing.assert_allclose(cal.se, np.sqrt(np.diag(np.linalg.inv(-hess))), rtol=1e-4)
    assert cal.log_likelihood == pytest.approx(loglik(b), abs=1e-6)


def test_cml_on_lsat_agrees_with_ltm_normal_rasch_model(lsat):
    cal = calibrate(lsat)  # CML is the default
    assert cal.method == "cml"
    ltm_logit = LTM_LSAT_FREE_A * np.array(LTM_LSAT_FREE_B)
    np.testing.assert_allclose(cal.difficulties, ltm_logit - ltm_logit.mean(), atol=0.01)
    assert cal.difficulties.mean() == pytest.approx(0.0, abs=1e-12)


# --------------------------------------------------------------------------------------
# CML against a brute-force conditional likelihood
# --------------------------------------------------------------------------------------


def brute_force_cml(x: np.ndarray):
    """Maximise the conditional likelihood by enumerating all patterns (small k only).

    Returns sum-zero difficulties and their standard errors from a numerical Hessian.
    """
    k = x.shape[1]
    patterns = np.array(list(itertools.product([0, 1], repeat=k)), dtype=float)
    pattern_score = patterns.sum(axis=1)
    score = x.sum(axis=1)
    keep = (score > 0) & (score < k)
    x, score = x[keep], score[keep]
    totals = x.sum(axis=0)
    n_r = np.bincount(score.astype(int), minlength=k + 1)

    def negloglik(free):
        b = np.r_[free, -free.sum()]
        log_gamma = np.array(
            [np.log(np.exp(-patterns[pattern_score == r] @ b).sum()) for r in range(k + 1)]
        )
        return totals @ b + n_r @ log_gamma

    res = minimize(negloglik, np.zeros(k - 1), method="BFGS", options={"gtol": 1e-10})
    b = np.r_[res.x, -res.x.sum()]
    # Numerical Hessian in the k - 1 free parameters, mapped to all k.
    h = 1e-4
    m = k - 1
    hess = np.zeros((m, m))
    for i in range(m):
        for j in range(m):
            e_i, e_j = np.eye(m)[i] * h, np.eye(m)[j] * h
            hess[i, j] = (
                negloglik(res.x + e_i + e_j)
                - negloglik(res.x + e_i - e_j)
                - negloglik(res.x - e_i + e_j)
                + negloglik(res.x - e_i - e_j)
            ) / (4 * h * h)
    jac = np.vstack([np.eye(m), -np.ones(m)])
    cov = jac @ np.linalg.inv(hess) @ jac.T
    return b, np.sqrt(np.diag(cov)), -res.fun


def test_cml_matches_brute_force_conditional_likelihood_on_lsat(lsat):
    cal = calibrate(lsat, method="cml")
    b, se, loglik = brute_force_cml(lsat)
    np.testing.assert_allclose(cal.difficulties, b, atol=1e-6)
    np.testing.assert_allclose(cal.se, se, rtol=1e-4)
    assert cal.log_likelihood == pytest.approx(loglik, abs=1e-8)


def test_cml_hessian_handles_items_with_identical_difficulties():
    # Duplicated columns have identical estimates, where the closed form for the pairwise
    # probabilities is 0/0; those pairs are computed from their own ESFs.
    rng = np.random.default_rng(7)
    x = simulate(rng, rng.normal(size=800), np.array([-1.0, -0.3, 0.4, 1.1]))
    x = np.hstack([x, x[:, [1, 2]]])
    cal = calibrate(x, method="cml")
    b, se, _ = brute_force_cml(x)
    np.testing.assert_allclose(cal.difficulties, b, atol=1e-6)
    np.testing.assert_allclose(cal.se, se, rtol=1e-4)
    assert cal.difficulties[1] == pytest.approx(cal.difficulties[4], abs=1e-12)


def test_log_esfs_survive_long_and_spread_out_tests():
    from psychometrics.calibration import (
        _log_esf_leave_one_out,
        _log_esf_leave_one_out_logspace,
    )

    rng = np.random.default_rng(3)
    for n, spread in [(400, 2.5), (150, 6.0)]:
        log_e = rng.normal(0.5, spread, n)
        fast = _log_esf_leave_one_out(log_e)
        exact = _log_esf_leave_one_out_logspace(log_e)
        finite = np.isfinite(exact)
        assert (np.isfinite(fast) == finite).all()
        np.testing.assert_allclose(fast[finite], exact[finite], rtol=1e-10, atol=1e-8)


# --------------------------------------------------------------------------------------
# Recovery of known parameters
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def complete_sim():
    rng = np.random.default_rng(20240601)
    b = np.linspace(-2.0, 2.0, 30) + rng.normal(0, 0.1, 30)
    theta = rng.normal(0.0, 1.0, 3000)
    return simulate(rng, theta, b), b


@pytest.mark.parametrize("method", ["cml", "jml", "mml"])
def test_recovers_known_difficulties(complete_sim, method):
    x, b_true = complete_sim
    cal = calibrate(x, method=method)
    assert cal.converged
    est = cal.difficulties
    if method == "mml":  # located by the N(0, 1) abilities, which match the simulation
        truth = b_true
    else:
        truth = b_true - b_true.mean()
        assert est.mean() == pytest.approx(0.0, abs=1e-10)
    assert np.corrcoef(est, truth)[0, 1] > 0.99
    assert np.sqrt(np.mean((est - truth) ** 2)) < 0.1
    assert np.all(cal.se > 0.03) and np.all(cal.se < 0.1)
    assert cal.n_items == 30


def test_cml_and_bias_corrected_jml_agree(complete_sim):
    x, _ = complete_sim
    cml = calibrate(x, method="cml").difficulties
    jml = calibrate(x, method="jml").difficulties
    assert np.abs(cml - jml).max() < 0.03
    # Without the (L - 1) / L factor JML would be visibly too spread out.
    uncorrected = jml * 30 / 29
    assert np.abs(cml - uncorrected).max() > np.abs(cml - jml).max()


def test_standard_errors_match_the_spread_of_estimates_across_replications():
    rng = np.random.default_rng(11)
    b = np.linspace(-1.5, 1.5, 10)
    estimates = []
    cal = None
    for _ in range(60):
        cal = calibrate(simulate(rng, rng.normal(size=500), b))
        estimates.append(cal.difficulties)
    empirical = np.std(estimates, axis=0, ddof=1)
    ratio = empirical / cal.se
    assert 0.75 < ratio.mean() < 1.25


# --------------------------------------------------------------------------------------
# Incomplete designs and anchors
# --------------------------------------------------------------------------------------


def three_forms(rng, n_per_form=1500):
    """30 items: 10 common anchors + 3 x 20 unique => 70 items; forms of 30 items each.

    The three groups differ in ability, which a naive p-value comparison would confuse
    with item difficulty.
    """
    b = rng.normal(0.0, 1.0, 70)
    common = np.arange(10)
    forms = [np.r_[common, 10 + 20 * f + np.arange(20)] for f in range(3)]
    blocks = []
    for f, items in enumerate(forms):
        theta = rng.normal(-0.5 + 0.5 * f, 1.0, n_per_form)
        present = np.zeros((n_per_form, 70), dtype=bool)
        present[:, items] = True
        blocks.append(simulate(rng, theta, b, present=present))
    return np.vstack(blocks), b


@pytest.mark.parametrize("method", ["cml", "jml"])
def test_incomplete_design_with_shared_items_is_put_on_one_scale(method):
    rng = np.random.default_rng(5)
    x, b_true = three_forms(rng)
    cal = calibrate(x, method=method)
    truth = b_true - b_true.mean()
    assert cal.estimable.all()
    assert cal.difficulties.mean() == pytest.approx(0.0, abs=1e-10)
    assert np.corrcoef(cal.difficulties, truth)[0, 1] > 0.99
    assert np.sqrt(np.mean((cal.difficulties - truth) ** 2)) < 0.1
    np.testing.assert_array_equal(cal.n_responses[:10] > 4000, True)


def test_cml_ignores_how_persons_are_ordered_or_grouped():
    rng = np.random.default_rng(6)
    x, _ = three_forms(rng, n_per_form=400)
    a = calibrate(x)
    b = calibrate(x[rng.permutation(len(x))])
    np.testing.assert_allclose(a.difficulties, b.difficulties, atol=1e-10)
    np.testing.assert_allclose(a.se, b.se, rtol=1e-8)


def test_anchored_calibration_puts_pretest_items_on_the_bank_scale():
    rng = np.random.default_rng(8)
    n_oper, n_pre, n = 40, 12, 4000
    b_oper = rng.normal(0.3, 1.0, n_oper)  # bank scale: NOT centred
    b_pre = rng.normal(0.8, 1.0, n_pre)
    theta = rng.normal(0.6, 1.0, n)
    b_all = np.r_[b_oper, b_pre]
    # Every candidate sees all operational items and 4 of the 12 pretest items.
    present = np.ones((n, n_oper + n_pre), dtype=bool)
    present[:, n_oper:] = False
    for i in range(n):
        present[i, n_oper + rng.choice(n_pre, 4, replace=False)] = True
    x = simulate(rng, theta, b_all, present=present)

    anchors = {i: float(b_oper[i]) for i in range(n_oper)}
    for method in ("cml", "jml"):
        cal = calibrate(x, method=method, anchors=anchors)
        np.testing.assert_array_equal(cal.difficulties[:n_oper], b_oper)
        assert cal.anchored[:n_oper].all() and not cal.anchored[n_oper:].any()
        assert np.isnan(cal.se[:n_oper]).all() and (cal.se[n_oper:] > 0).all()
        error = cal.difficulties[n_oper:] - b_pre
        assert np.sqrt(np.mean(error**2)) < 0.12, method
        assert abs(error.mean()) < 0.06, method  # no shift: on the anchors' scale


def test_anchored_mml_estimates_the_ability_mean():
    rng = np.random.default_rng(9)
    b = rng.normal(0.0, 1.0, 20)
    x = simulate(rng, rng.normal(1.0, 1.0, 3000), b)  # abilities NOT N(0, 1)
    anchors = {i: float(b[i]) for i in range(10)}
    cal = calibrate(x, method="mml", anchors=anchors)
    np.testing.assert_array_equal(cal.difficulties[:10], b[:10])
    assert np.sqrt(np.mean((cal.difficulties[10:] - b[10:]) ** 2)) < 0.1


def test_disconnected_design_without_anchors_is_refused():
    rng = np.random.default_rng(10)
    b = rng.normal(size=20)
    present = np.zeros((1000, 20), dtype=bool)
    present[:500, :10] = True
    present[500:, 10:] = True
    x = simulate(rng, rng.normal(size=1000), b, present=present)
    with pytest.raises(ValueError, match="not connected"):
        calibrate(x)
    with pytest.raises(ValueError, match="anchor"):
        calibrate(x, anchors={0: 0.0})
    # With an anchor in each part the scale is defined.
    cal = calibrate(x, anchors={0: float(b[0]), 10: float(b[10])})
    assert cal.estimable.all()


# --------------------------------------------------------------------------------------
# Items and persons without information
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["cml", "jml", "mml"])
def test_items_everyone_got_right_or_wrong_are_not_estimable(complete_sim, method):
    x, _ = complete_sim
    x = x[:1000].copy()
    x[:, 3] = 1.0
    x[:, 7] = 0.0
    cal = calibrate(x, method=method)
    assert not cal.estimable[3] and not cal.estimable[7]
    assert cal.estimable.sum() == 28
    for values in (cal.difficulties, cal.se, cal.infit, cal.outfit):
        assert np.isnan(values[[3, 7]]).all()
        assert np.isfinite(values[cal.estimable]).all()
    if method != "mml":
        assert np.nanmean(cal.difficulties) == pytest.approx(0.0, abs=1e-10)


def test_items_extreme_among_those_who_saw_them_or_never_presented():
    rng = np.random.default_rng(12)
    x = simulate(rng, rng.normal(size=600), np.linspace(-1, 1, 8))
    x[:, 5] = np.where(rng.random(600) < 0.5, 1.0, np.nan)  # right whenever presented
    x[:, 6] = np.nan  # never presented
    for method in ("cml", "jml"):
        cal = calibrate(x, method=method)
        assert cal.estimable.tolist() == [True] * 5 + [False, False, True]
        assert cal.n_responses[6] == 0


def test_extreme_persons_do_not_change_cml_and_are_dropped_by_jml(complete_sim):
    x, _ = complete_sim
    extra = np.vstack([np.ones((50, 30)), np.zeros((70, 30))])
    with_extremes = np.vstack([x, extra])
    for method in ("cml", "jml"):
        a = calibrate(x, method=method)
        b = calibrate(with_extremes, method=method)
        np.testing.assert_allclose(a.difficulties, b.difficulties, atol=1e-9)
        assert a.n_persons == b.n_persons < len(with_extremes)


def test_persons_extreme_after_dropping_an_item_are_dropped_in_turn():
    # Item 0 is wrong for everybody, so it is not estimable and goes; person 1, right on
    # every other item, is then perfect on what remains and must go too (JML drops
    # extreme persons): the result is exactly as if item 0 had never been in the data.
    rng = np.random.default_rng(13)
    x = simulate(rng, rng.normal(size=300), np.linspace(-1, 1, 6))
    x[:, 0] = 0.0
    x[1, 1:] = 1.0
    cal = calibrate(x, method="jml")
    assert not cal.estimable[0]
    kept = calibrate(np.delete(x, 0, axis=1), method="jml")
    np.testing.assert_allclose(cal.difficulties[1:], kept.difficulties, atol=1e-9)
    assert cal.n_persons == kept.n_persons


# --------------------------------------------------------------------------------------
# Fit statistics
# --------------------------------------------------------------------------------------


def test_fit_mean_squares_are_near_one_for_model_data_and_flag_misfit():
    rng = np.random.default_rng(14)
    n, k = 3000, 25
    b = np.linspace(-2, 2, k)
    theta = rng.normal(size=n)
    x = simulate(rng, theta, b)
    x[:, 0] = (rng.random(n) < 0.5).astype(float)  # unrelated to ability: noisy
    x[:, 1] = (theta > 0).astype(float)  # deterministic (Guttman): overfits
    cal = calibrate(x)
    ok = slice(2, None)
    assert np.abs(np.mean(cal.infit[ok]) - 1) < 0.05
    assert np.abs(np.median(cal.outfit[ok]) - 1) < 0.1
    assert cal.infit[0] > 1.2 and cal.outfit[0] > 1.2
    assert cal.infit[1] < 0.8 and cal.outfit[1] < 0.8


# --------------------------------------------------------------------------------------
# Input validation and the result type
# --------------------------------------------------------------------------------------


def test_mml_needs_a_complete_matrix(complete_sim):
    x = complete_sim[0].copy()
    x[0, 0] = np.nan
    with pytest.raises(ValueError, match="complete"):
        calibrate(x, method="mml")


@pytest.mark.parametrize(
    ("kwargs", "data", "message"),
    [
        ({"method": "wls"}, [[1, 0], [0, 1]], "method"),
        ({}, [[1, 2], [0, 1]], "1 \\(correct\\)"),
        ({}, [1, 0, 1], "matrix"),
        ({"anchors": {5: 0.0}}, [[1, 0], [0, 1]], "out of range"),
        ({"anchors": {0: float("inf")}}, [[1, 0], [0, 1]], "finite"),
    ],
)
def test_invalid_input_is_refused(kwargs, data, message):
    with pytest.raises(ValueError, match=message):
        calibrate(np.array(data, dtype=float), **kwargs)


def test_calibration_is_a_frozen_record(lsat):
    cal = calibrate(lsat)
    assert isinstance(cal, Calibration)
    with pytest.raises(AttributeError):
        cal.method = "jml"  # type: ignore[misc]
    assert cal.n_persons == 1000 - 3 - 298  # zero and perfect scores carry no information
    assert cal.n_estimable == 5
    assert cal.iterations >= 1


def test_integer_and_boolean_matrices_are_accepted(lsat):
    a = calibrate(lsat)
    b = calibrate(lsat.astype(int))
    c = calibrate(lsat.astype(bool))
    np.testing.assert_allclose(a.difficulties, b.difficulties)
    np.testing.assert_allclose(a.difficulties, c.difficulties)


def test_public_name_in_the_core_package():
    import psychometrics

    assert psychometrics.calibrate is calibrate
