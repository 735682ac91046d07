"""Measurement precision on the Rasch theta scale: information, conditional SEM, decisions.

Model: P(correct | theta, b) = logistic(theta - b), difficulties ``b`` in logits.

``test_information(b, theta)``   sum over items of P(1 - P) at each theta.
``conditional_sem(b, theta)``    1 / sqrt(information): the standard error of the maximum
                                 likelihood ability estimate at theta, in logits.
``probability_of_passing(theta, se, cut)``
                                 P(true theta >= cut) when the true ability is taken as
                                 normal around the estimate: Phi((theta - cut) / se).
``classification_indices(theta, se, cut)``
                                 Rudner's (2001, 2005) classification accuracy and
                                 consistency of the pass/fail decision at ``cut``.
``precision_curve(b, table)``    information and conditional SEM at abilities spread over
                                 a form, each carried to its scaled score (for the chart).

Arrays and scalars: ``theta`` (and ``se``) may be scalars, giving floats, or arrays of any
shape, giving arrays of that shape. Difficulties must be a non-empty 1-D finite array.

Rudner's method
---------------
Each person's true ability is taken as N(theta_hat, se^2) around the estimate. With
``p = P(true theta >= cut)`` and the observed decision "pass" when ``theta_hat >= cut``:

- accuracy    = mean over persons of P(the true status agrees with the observed decision),
                i.e. p for those observed to pass and 1 - p for the others;
- consistency = mean of p^2 + (1 - p)^2, the probability that two independent
                replications (each drawn from the same error distribution) agree;
- false_positive / false_negative = mean of (1 - p) over observed passes / p over observed
                fails, each as a share of all persons (accuracy + both = 1);
- kappa       = (consistency - chance) / (1 - chance), chance = P^2 + (1 - P)^2 with P the
                mean of p: the consistency beyond what two independent decisions with the
                same pass rate would reach (NaN when chance is 1).

Zero and infinite standard errors: ``se == 0`` means the estimate is exact, so the
probability of passing is 1.0 when ``theta >= cut`` (a candidate exactly at the cut passes,
as in the observed decision) and 0.0 otherwise; ``se == inf`` gives 0.5 for a finite theta.
A NaN theta or se, or an infinite theta with an infinite se, gives NaN (and is a ValueError
in ``classification_indices``); a negative se is a ValueError.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, ndtr

from psychometrics.rasch import expected_score, theta_for_expected_score
from psychometrics.results import interpolate

# Cells (abilities x items) evaluated at once, so a long theta array does not build one
# huge temporary matrix.
_BLOCK_CELLS = 4_000_000


@dataclass(frozen=True)
class ClassificationIndices:
    """Result of ``classification_indices``; proportions of all persons."""

    accuracy: float
    consistency: float
    false_positive: float  # observed pass, true ability below the cut
    false_negative: float  # observed fail, true ability at or above the cut
    kappa: float
    n_persons: int
    cut: float


def test_information(b, theta):
    """Rasch test information sum(P(1 - P)) at each theta (scalar or array)."""
    difficulties = _difficulties(b)
    t = np.asarray(theta, dtype=float)
    flat = t.reshape(-1)
    info = np.empty(flat.shape)
    step = max(1, _BLOCK_CELLS // difficulties.size)
    for start in range(0, flat.size, step):
        z = flat[start : start + step, None] - difficulties
        # P(1 - P) written as expit(z) * expit(-z): 1 - P would lose all precision far
        # above the items (P rounds to 1) and report zero information too early.
        info[start : start + step] = (expit(z) * expit(-z)).sum(axis=1)
    info = info.reshape(t.shape)
    return float(info) if t.ndim == 0 else info


# Not a pytest test, although its name (fixed by the API) starts with "test_".
test_information.__test__ = False


def conditional_sem(b, theta):
    """Standard error of measurement 1 / sqrt(information) at each theta, in logits.

    Far from every item the information underflows to 0 and the SEM is inf (no warning).
    """
    info = np.asarray(test_information(b, theta), dtype=float)
    with np.errstate(divide="ignore"):
        sem = 1.0 / np.sqrt(info)
    return float(sem) if sem.ndim == 0 else sem


def probability_of_passing(theta, se, cut):
    """P(true theta >= cut) under normal error around the estimate; see the module docstring."""
    t, s = np.broadcast_arrays(np.asarray(theta, dtype=float), np.asarray(se, dtype=float))
    c = _cut(cut)
    if np.any(s < 0):
        raise ValueError("standard errors must not be negative")
    with np.errstate(divide="ignore", invalid="ignore"):
        p = ndtr((t - c) / s)
    exact = s == 0
    p = np.where(exact, np.where(t >= c, 1.0, 0.0), p)
    p = np.where(np.isnan(t) | np.isnan(s), np.nan, p)
    return float(p) if p.ndim == 0 else p


def classification_indices(theta, se, cut) -> ClassificationIndices:
    """Rudner's classification accuracy and consistency at ``cut``; see the module docstring.

    ``theta`` and ``se`` are per person (``se`` may be a scalar shared by all). Every
    theta and se must be a number (no NaN), with at least one person.
    """
    t, s = np.broadcast_arrays(np.asarray(theta, dtype=float), np.asarray(se, dtype=float))
    if t.ndim > 1:
        raise ValueError(f"theta must be one value per person, got shape {t.shape}")
    t, s = t.reshape(-1), s.reshape(-1)
    if t.size == 0:
        raise ValueError("classification indices need at least one person")
    if np.any(np.isnan(t)) or np.any(np.isnan(s)):
        raise ValueError("theta and se must not contain NaN")
    c = _cut(cut)
    p = probability_of_passing(t, s, c)
    if np.any(np.isnan(p)):
        raise ValueError("an infinite theta needs a finite se")
    passed = t >= c
    false_positive = float(np.mean(np.where(passed, 1.0 - p, 0.0)))
    false_negative = float(np.mean(np.where(passed, 0.0, p)))
    consistency = float(np.mean(p**2 + (1.0 - p) ** 2))
    pass_rate = float(np.mean(p))
    chance = pass_rate**2 + (1.0 - pass_rate) ** 2
    kappa = (consistency - chance) / (1.0 - chance) if chance < 1.0 else float("nan")
    return ClassificationIndices(
        accuracy=float(np.mean(np.where(passed, p, 1.0 - p))),
        consistency=consistency,
        false_positive=false_positive,
        false_negative=false_negative,
        kappa=kappa,
        n_persons=int(t.size),
        cut=c,
    )


def _difficulties(b) -> np.ndarray:
    d = np.asarray(b, dtype=float)
    if d.ndim != 1 or d.size == 0:
        raise ValueError(f"difficulties must be a non-empty 1-D array, got shape {d.shape}")
    if not np.all(np.isfinite(d)):
        raise ValueError("difficulties must be finite")
    return d


def _cut(cut) -> float:
    c = float(cut)
    if not np.isfinite(c):
        raise ValueError(f"cut must be a finite number, got {cut!r}")
    return c


# --- Precision along a form's reporting scale ------------------------------------------------
@dataclass(frozen=True)
class PrecisionPoint:
    """Precision at one ability, with that ability's place on the form's scaled score."""

    theta: float
    expected_raw: float
    scaled: int  # the table read at the expected raw score
    information: float
    sem: float  # logits
    scaled_sem: float  # half the scaled width of theta +/- one sem


def precision_curve(b, table, *, points: int = 16) -> list[PrecisionPoint]:
    """Test information and conditional SEM at ``points`` abilities spread over the form.

    The abilities are those whose expected raw scores are evenly spaced from 0.5 to
    n - 0.5 (beyond them the scale is flat at 100 or 400 and says nothing), and each is
    carried to the scaled score by reading the conversion ``table`` (one row per raw score
    0..n, as published) at its expected raw score; the SEM on the scale is half the
    scaled distance between theta - sem and theta + sem.
    """
    difficulties = _difficulties(b)
    n = difficulties.size
    if len(table) != n + 1:
        raise ValueError(f"the table needs {n + 1} rows for {n} items, got {len(table)}")
    if points < 2:
        raise ValueError("precision_curve needs at least 2 points")
    raws = np.linspace(0.5, n - 0.5, points)
    thetas = theta_for_expected_score(raws, difficulties)
    info = test_information(difficulties, thetas)
    sem = 1.0 / np.sqrt(info)
    out = []
    for theta, raw, i, s in zip(thetas, raws, info, sem, strict=True):
        low = interpolate(table, expected_score(theta - s, difficulties))
        high = interpolate(table, expected_score(theta + s, difficulties))
        out.append(
            PrecisionPoint(
                theta=float(theta),
                expected_raw=float(raw),
                scaled=interpolate(table, raw),
                information=float(i),
                sem=float(s),
                scaled_sem=(high - low) / 2.0,
            )
        )
    return out
