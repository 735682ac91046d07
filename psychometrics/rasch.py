"""Rasch-model person measures and IRT true-score equating.

Item difficulties are on the bank's logit scale; calibrating them is
``psychometrics.calibration``'s job. Responses are float arrays with 1 = correct, 0 = wrong and
NaN = not presented (a NaN item is simply not part of that person's test).

Under the Rasch model P(correct | theta, b) = logistic(theta - b). The expected raw score
(the test characteristic curve) is the sum of those probabilities and the test information
is the sum of P(1 - P); both are strictly increasing/positive, which is what makes every
"solve for theta" below a one-dimensional monotone root-finding problem with a known
bracket.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import brentq
from scipy.special import expit, logit

from psychometrics.scale import conversion_table, scaled_score

METHODS = ("mle", "wle", "eap")

_EPS = np.finfo(float).eps
_MAX_ITER = 200
# EAP quadrature: the log posterior has curvature <= -1 everywhere (the N(0,1) prior alone
# contributes -1), so beyond 12 logits from the mode the density is below exp(-72) of its
# peak: integrating over mode +/- 12 loses nothing measurable.
_EAP_HALF_WIDTH = 12.0
# Bound on grid cells held in memory at once when evaluating the log likelihood.
_EAP_BLOCK = 2_000_000


def _difficulties(difficulties) -> np.ndarray:
    b = np.asarray(difficulties, dtype=float)
    if b.ndim != 1:
        raise ValueError(f"difficulties must be 1-D, got shape {b.shape}")
    if not np.all(np.isfinite(b)):
        raise ValueError("difficulties must be finite")
    return b


def expected_score(theta, difficulties):
    """Expected raw score at ``theta``: the test characteristic curve sum(logistic(theta - b)).

    ``theta`` may be a scalar (returns a float) or an array (returns an array of the same
    shape). Strictly increasing in theta, from 0 to len(difficulties).
    """
    b = _difficulties(difficulties)
    t = np.asarray(theta, dtype=float)
    e = expit(t[..., None] - b).sum(axis=-1)
    return float(e) if t.ndim == 0 else e


def information(theta, difficulties):
    """Test information at ``theta``: sum of P(1 - P). Scalar or array, like expected_score.

    (Not named ``test_information`` so that importing it into a test module does not make
    pytest collect it as a test.)
    """
    b = _difficulties(difficulties)
    t = np.asarray(theta, dtype=float)
    p = expit(t[..., None] - b)
    i = (p * (1.0 - p)).sum(axis=-1)
    return float(i) if t.ndim == 0 else i


def _solve_expected(targets: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solve expected_score(theta, b) == target for each target in (0, len(b)), vectorised.

    Newton-Raphson converges quadratically here, but from a poor start on a flat stretch of
    the curve it can overshoot wildly; every Newton step is therefore kept inside a bracket
    known to hold the root, falling back to bisection when it would leave it. The initial
    bracket comes from bounding each item's curve by the easiest and the hardest item's:
    n * logistic(theta - max b) <= E(theta) <= n * logistic(theta - min b).
    """
    t = np.asarray(targets, dtype=float)
    n = b.size
    shift = logit(t / n)
    # The bracket is exact in real arithmetic; the margin keeps it valid under rounding.
    lo = b.min() + shift - 1e-6
    hi = b.max() + shift + 1e-6
    theta = b.mean() + shift
    # Stop once the score equation holds to well below the 1e-9 tolerance that scale.py
    # rounds equated scores to, so that self-equating reproduces whole raw scores exactly.
    ftol = 1e-13 * max(n, 1)
    for _ in range(_MAX_ITER):
        p = expit(theta[:, None] - b)
        f = p.sum(axis=1) - t
        d = (p * (1.0 - p)).sum(axis=1)
        lo = np.where(f < 0, theta, lo)
        hi = np.where(f > 0, theta, hi)
        with np.errstate(divide="ignore", invalid="ignore"):
            new = theta - f / d
        outside = ~np.isfinite(new) | (new < lo) | (new > hi)
        new = np.where(outside, 0.5 * (lo + hi), new)
        done = (np.abs(f) <= ftol) | (np.abs(new - theta) <= 4 * _EPS * (1 + np.abs(theta)))
        theta = np.where(np.abs(f) <= ftol, theta, new)
        if np.all(done):
            break
    return theta


def theta_for_expected_score(score, difficulties):
    """The ability whose expected raw score on these items is ``score`` (inverse TCC).

    Scalar or array. A score of 0 gives -inf and len(difficulties) gives +inf (the curve
    only reaches its ends in the limit); outside [0, n] is a ValueError.
    """
    b = _difficulties(difficulties)
    s = np.asarray(score, dtype=float)
    n = b.size
    if np.any(np.isnan(s)) or np.any((s < 0) | (s > n)):
        raise ValueError(f"expected score must lie in [0, {n}]")
    flat = s.reshape(-1)
    out = np.where(flat <= 0, -np.inf, np.inf)
    inner = (flat > 0) & (flat < n)
    if inner.any():
        out[inner] = _solve_expected(flat[inner], b)
    out = out.reshape(s.shape)
    return float(out) if s.ndim == 0 else out


def _presented(responses, difficulties) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(responses, dtype=float)
    b = _difficulties(difficulties)
    if x.shape != b.shape:
        raise ValueError(f"{x.size} responses for {b.size} difficulties")
    shown = ~np.isnan(x)
    x, b = x[shown], b[shown]
    if np.any((x != 0) & (x != 1)):
        raise ValueError("responses must be 1 (correct), 0 (wrong) or NaN (not presented)")
    return x, b


def _se(theta: float, b: np.ndarray) -> float:
    info = information(theta, b)
    return math.inf if info <= 0 else 1.0 / math.sqrt(info)


def _mle(r: float, b: np.ndarray) -> float:
    n = b.size
    if r <= 0:
        return -math.inf
    if r >= n:
        return math.inf
    return float(_solve_expected(np.array([r]), b)[0])


def _wle_equation(theta: float, r: float, b: np.ndarray) -> float:
    """Warm's estimating equation: d/dtheta [log L + 0.5 log I] = r - E + I' / (2 I)."""
    p = expit(theta - b)
    pq = p * (1.0 - p)
    return r - p.sum() + 0.5 * (pq * (1.0 - 2.0 * p)).sum() / pq.sum()


def _wle(r: float, b: np.ndarray) -> float:
    """Warm's weighted likelihood estimate.

    Because |I'/I| < 1, the root has E(theta) within (r - 1/2, r + 1/2); the MLE brackets
    for those scores bound it. For zero and perfect scores one side has no such bound and
    is found by stepping outward (the equation tends to r + 1/2 > 0 as theta -> -inf and
    to r - n - 1/2 < 0 as theta -> +inf, so a sign change always exists).
    """
    n = b.size

    def g(theta: float) -> float:
        return _wle_equation(theta, r, b)

    lo = b.min() + logit((r - 0.5) / n) if r >= 1 else b.min() - 1.0
    step = 1.0
    while g(lo) <= 0:
        lo -= step
        step *= 2
    hi = b.max() + logit((r + 0.5) / n) if r <= n - 1 else b.max() + 1.0
    step = 1.0
    while g(hi) >= 0:
        hi += step
        step *= 2
    return float(brentq(g, lo, hi, xtol=1e-13, rtol=4 * _EPS, maxiter=_MAX_ITER))


def _eap(x: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Posterior mean and SD under a N(0, 1) prior, by quadrature on a fine uniform grid.

    Gauss-Hermite nodes are placed for the prior; with a long test the posterior is narrow
    and far from 0 and a fixed node set under-resolves it. Instead the grid is centred on
    the posterior mode and its spacing is an eighth of the narrowest posterior SD possible
    (1 / sqrt(1 + n/4), as information never exceeds n/4), where the trapezoid rule on a
    smooth, rapidly decaying integrand is accurate to far beyond double precision needs.
    """
    n = b.size
    r = float(x.sum())
    # Posterior mode: r - E(theta) - theta is strictly decreasing, positive at r - n - 1
    # and negative at r + 1.
    mode = brentq(
        lambda th: r - expected_score(th, b) - th,
        r - n - 1.0,
        r + 1.0,
        xtol=1e-10,
    )
    h = 1.0 / (8.0 * math.sqrt(1.0 + n / 4.0))
    k = math.ceil(_EAP_HALF_WIDTH / h)
    grid = mode + h * np.arange(-k, k + 1)
    # log prior + log likelihood, dropping constants: r*theta - sum softplus(theta - b).
    log_post = -0.5 * grid**2 + r * grid
    block = max(1, _EAP_BLOCK // grid.size)
    for start in range(0, n, block):
        log_post -= np.logaddexp(0.0, grid[:, None] - b[start : start + block]).sum(axis=1)
    w = np.exp(log_post - log_post.max())
    w /= w.sum()
    mean = float(np.dot(w, grid))
    sd = float(math.sqrt(np.dot(w, (grid - mean) ** 2)))
    return mean, sd


def estimate_theta(responses, difficulties, *, method: str = "wle") -> tuple[float, float]:
    """Estimate one person's ability; returns ``(theta, standard_error)``.

    NaN responses are items not presented and are ignored.

    - ``"mle"``: maximum likelihood, the root of raw = E(theta) by safeguarded
      Newton-Raphson. For a zero or perfect score the likelihood is monotone and no maximum
      exists; rather than raise on a result that real candidates produce, it returns
      ``(-inf, inf)`` or ``(inf, inf)`` so callers can see the estimate is unbounded.
    - ``"wle"`` (default): Warm's weighted likelihood, which removes the MLE's first-order
      bias and is finite for zero and perfect scores.
    - ``"eap"``: expected a posteriori with a N(0, 1) prior; the se is the posterior SD.
      With no item presented it returns the prior, (0, 1).

    For mle and wle the se is 1 / sqrt(test information at theta). mle and wle need at
    least one presented item (``ValueError`` otherwise), as does any unknown ``method``.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of {METHODS}")
    x, b = _presented(responses, difficulties)
    if method == "eap":
        return _eap(x, b)
    if b.size == 0:
        raise ValueError(f"no items presented: {method} is undefined")
    r = float(x.sum())
    theta = _mle(r, b) if method == "mle" else _wle(r, b)
    if not math.isfinite(theta):
        return theta, math.inf
    return theta, _se(theta, b)


def equated_conversion(
    form_difficulties,
    base_difficulties,
    base_cut: float,
    *,
    low: int = 100,
    passing: int = 300,
    high: int = 400,
) -> list[int]:
    """Raw-to-scaled table for a calibrated form, by IRT true-score equating to the base form.

    For each raw score r = 1..n-1 on the new form, theta_r solves E_form(theta_r) = r, and
    its base-form true-score equivalent e(r) = E_base(theta_r) is scaled with the base
    form's own scaling function (``scale.scaled_score`` with the base length and
    ``base_cut``), so the base form's table is the single source of the scale. Raw 0 and
    raw n have no finite theta and take ``low`` and ``high``.

    Consequences, each relied on by callers and tested:

    - A raw score reaches ``passing`` iff e(r) >= base_cut, i.e. iff theta_r is at least
      the ability at the base form's cut: the same ability passes on every form.
    - The form's own raw passing score (the smallest raw score that passes) shows exactly
      ``passing``, like a table from ``conversion_table``; only if it is the top raw score
      does ``high`` win, as in ``conversion_table``.
    - Equating the base form with itself gives e(r) = r up to ~1e-13, which the scale's
      9-decimal tolerance turns into whole raw scores, so the result equals
      ``conversion_table(len(base), base_cut)`` exactly.
    - A harder form (higher difficulties) gives each raw score a higher theta and hence an
      equal or higher scaled score: it needs an equal or lower raw score to pass.

    The table is monotone non-decreasing (theta_r and E_base are increasing, and so is the
    scaling) and lies within [low, high].
    """
    form = _difficulties(form_difficulties)
    base = _difficulties(base_difficulties)
    if form.size == 0 or base.size == 0:
        raise ValueError("both forms need at least one item")
    m = base.size
    # Validates base_cut against the base form's length and the scale anchors.
    conversion_table(m, base_cut, low=low, passing=passing, high=high)

    n = form.size
    table = [low]
    if n > 1:
        thetas = _solve_expected(np.arange(1, n, dtype=float), form)
        for e in expected_score(thetas, base):
            table.append(
                scaled_score(e, max_raw=m, cut=base_cut, low=low, passing=passing, high=high)
            )
    table.append(high)
    first_pass = next(r for r, s in enumerate(table) if s >= passing)
    if first_pass < n:
        table[first_pass] = passing
    return table


__all__ = [
    "equated_conversion",
    "estimate_theta",
    "expected_score",
    "information",
    "theta_for_expected_score",
]
