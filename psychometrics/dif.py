"""Differential item functioning (DIF) by the Mantel-Haenszel procedure, with ETS categories.

``dif_mantel_haenszel(responses, focal, *, matching=None) -> list[ItemDif]`` (one per item)

``responses`` is a persons x items array: 1 = correct, 0 = wrong, NaN = not presented (that
person is left out of that item's analysis only). ``focal`` is True for members of the
focal group and False for the reference group. Persons are matched on ``matching`` (one
number per person; equal values form a stratum) or, by default, on their total score over
the items they were presented, the studied item included (Holland and Thayer 1988: under
the Rasch model only a criterion that contains the studied item makes the MH odds ratio
equal to 1 for an item without DIF).

For an item and a stratum k, among the persons of the stratum who were presented the item:

                      correct   wrong
    reference           A_k      B_k      n_Rk
    focal               C_k      D_k      n_Fk
                        m_1k     m_0k     T_k

``alpha``     MH common odds ratio, reference over focal: sum(A D / T) / sum(B C / T).
              Above 1: at equal matching score the item is easier for the reference group.
``delta``     MH D-DIF = -2.35 ln(alpha), on the ETS delta scale; negative values mean the
              item is harder for the focal group than for matched reference members.
``se_delta``  2.35 x the Robins-Breslow-Greenland (1986) standard error of ln(alpha).
``chi2``      MH chi-square with continuity correction,
              (|sum A - sum E(A)| - 1/2)^2 / sum Var(A), E(A) = n_R m_1 / T,
              Var(A) = n_R n_F m_1 m_0 / (T^2 (T - 1)). When |sum A - sum E(A)| is below
              1/2 the correction is limited to that difference (the statistic is then 0)
              instead of overshooting it and reporting evidence that is not there
              (statsmodels and difR subtract the full 1/2 there; R's mantelhaen.test
              drops the correction instead).
``p``         its p-value on 1 degree of freedom.
``n_reference``, ``n_focal``
              persons of each group who were presented the item (in any stratum).
``n_strata``  strata holding at least one reference and one focal person presented the
              item: only those carry information. A stratum with one person, or with one
              group only, adds exactly zero to every sum above, and is skipped.

No information: when no stratum is informative, or every informative stratum has all its
persons right or all wrong (sum Var(A) = 0, which makes both sums of alpha zero), alpha,
delta, se_delta, chi2 and p are NaN and the category is "A": there is no evidence of DIF.

ETS categories (Dorans and Holland 1993; Zwick 2012, ETS RR-12-08), at ``SIGNIFICANCE`` .05:

- "A" (negligible): the MH chi-square is not significant (p >= .05) or |delta| < 1.
- "C" (large): |delta| >= 1.5 and |delta| is significantly greater than 1, tested against
  the interval null hypothesis |true delta| <= 1 with the statistic |delta| and its normal
  approximation (Paek and Holland 2015): the p-value is
  Phi((1 - |delta|) / se) + Phi((-1 - |delta|) / se) (the first term alone is the common
  one-sided z test (|delta| - 1) / se > 1.645; the second, negligible unless se is large,
  makes it exact at |true delta| = 1).
- "B" (moderate): every other item (significant, |delta| >= 1, not C).

An item with alpha 0 or infinite (no stratum with both an A D and a B C pair) has an infinite
|delta| but no finite standard error: the test against 1 cannot be made, so it is "B" when
its chi-square is significant and "A" otherwise, never "C"; ``se_delta`` is NaN or inf.
The sign of ``delta`` gives the ETS "+" (favours focal) or "-" (favours reference).

Work is vectorised: one stable sort of the persons by (stratum, group), then the counts of
every stratum for a block of items come from ``np.add.reduceat`` over the sorted rows, so
the cost is a few passes over the response matrix and memory stays at a block of columns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr
from scipy.stats import chi2 as chi2_distribution

SIGNIFICANCE = 0.05
DELTA_PER_LOG_ODDS = -2.35
NEGLIGIBLE, MODERATE, LARGE = "A", "B", "C"

# Response cells held at once while validating or counting (a block of rows or columns).
_BLOCK_CELLS = 4_000_000


@dataclass(frozen=True)
class ItemDif:
    """Mantel-Haenszel DIF statistics of one item; see the module docstring."""

    item: int  # column of the response matrix
    alpha: float
    delta: float
    se_delta: float
    chi2: float
    p: float
    category: str  # "A", "B" or "C"
    n_reference: int
    n_focal: int
    n_strata: int


def dif_mantel_haenszel(responses, focal, *, matching=None) -> list[ItemDif]:
    """Mantel-Haenszel DIF of every item (column) of ``responses``; see the module docstring."""
    x = _read_responses(responses)
    n_persons, n_items = x.shape
    is_focal = _read_focal(focal, n_persons)
    totals = _check_values_and_total(x, want_total=matching is None)
    score = totals if matching is None else _read_matching(matching, n_persons)
    _, stratum = np.unique(score, return_inverse=True)
    n_strata = int(stratum.max()) + 1

    # Sorting once by (stratum, group) makes every (stratum, group) cell a contiguous run
    # of rows, so per-cell counts for all items are sums over runs: no loop over persons.
    cell_of_person = stratum.reshape(-1) * 2 + is_focal
    order = np.argsort(cell_of_person, kind="stable")
    sorted_cells = cell_of_person[order]
    run_starts = np.flatnonzero(np.r_[True, sorted_cells[1:] != sorted_cells[:-1]])
    run_cell = sorted_cells[run_starts]

    seen = np.zeros((2 * n_strata, n_items))
    right = np.zeros((2 * n_strata, n_items))
    step = max(1, _BLOCK_CELLS // max(n_persons, 1))
    for first in range(0, n_items, step):
        cols = slice(first, first + step)
        block = x[order, cols]
        seen[run_cell, cols] = np.add.reduceat(~np.isnan(block), run_starts, axis=0, dtype=float)
        right[run_cell, cols] = np.add.reduceat(block == 1, run_starts, axis=0, dtype=float)
    seen = seen.reshape(n_strata, 2, n_items)
    right = right.reshape(n_strata, 2, n_items)

    stats = _mantel_haenszel(
        ref_right=right[:, 0], ref_seen=seen[:, 0], focal_right=right[:, 1], focal_seen=seen[:, 1]
    )
    categories = _categories(stats["delta"], stats["se_delta"], stats["p"])
    n_reference = seen[:, 0].sum(axis=0).astype(int)
    n_focal = seen[:, 1].sum(axis=0).astype(int)
    return [
        ItemDif(
            item=j,
            alpha=float(stats["alpha"][j]),
            delta=float(stats["delta"][j]),
            se_delta=float(stats["se_delta"][j]),
            chi2=float(stats["chi2"][j]),
            p=float(stats["p"][j]),
            category=str(categories[j]),
            n_reference=int(n_reference[j]),
            n_focal=int(n_focal[j]),
            n_strata=int(stats["n_strata"][j]),
        )
        for j in range(n_items)
    ]


def ets_category(delta: float, se_delta: float, p: float) -> str:
    """The ETS category of one item from its MH D-DIF, its standard error and MH p-value."""
    return str(_categories(np.array([delta]), np.array([se_delta]), np.array([p]))[0])


def _mantel_haenszel(*, ref_right, ref_seen, focal_right, focal_seen) -> dict[str, np.ndarray]:
    """Item statistics from strata x items counts (see the module docstring for the names)."""
    a, n_r = ref_right, ref_seen
    c, n_f = focal_right, focal_seen
    b, d = n_r - a, n_f - c
    informative = (n_r > 0) & (n_f > 0)
    # Uninformative strata add zero to every sum; giving them T = 2 only avoids 0 / 0.
    t = np.where(informative, n_r + n_f, 2.0)
    m1, m0 = a + c, b + d
    w = informative.astype(float)

    r_k = w * a * d / t
    s_k = w * b * c / t
    r, s = r_k.sum(axis=0), s_k.sum(axis=0)
    observed = (w * a).sum(axis=0)
    expected = (w * n_r * m1 / t).sum(axis=0)
    variance = (w * n_r * n_f * m1 * m0 / (t * t * (t - 1.0))).sum(axis=0)
    p_k = w * (a + d) / t
    q_k = w * (b + c) / t

    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = r / s
        delta = DELTA_PER_LOG_ODDS * np.log(alpha)
        var_log_alpha = (
            (p_k * r_k).sum(axis=0) / (2.0 * r * r)
            + (p_k * s_k + q_k * r_k).sum(axis=0) / (2.0 * r * s)
            + (q_k * s_k).sum(axis=0) / (2.0 * s * s)
        )
        se_delta = -DELTA_PER_LOG_ODDS * np.sqrt(var_log_alpha)
        corrected = np.maximum(np.abs(observed - expected) - 0.5, 0.0)
        chi2 = corrected * corrected / variance
    p = chi2_distribution.sf(chi2, 1)

    no_information = ~(variance > 0)
    for values in (alpha, delta, se_delta, chi2, p):
        values[no_information] = np.nan
    return {
        "alpha": alpha,
        "delta": delta,
        "se_delta": se_delta,
        "chi2": chi2,
        "p": p,
        "n_strata": informative.sum(axis=0),
    }


def _categories(delta: np.ndarray, se_delta: np.ndarray, p: np.ndarray) -> np.ndarray:
    size = np.abs(delta)
    with np.errstate(divide="ignore", invalid="ignore"):
        # Paek and Holland's test of |true delta| <= 1; NaN (never "significant") when the
        # standard error is not finite.
        p_above_one = ndtr((1.0 - size) / se_delta) + ndtr((-1.0 - size) / se_delta)
    negligible = ~(p < SIGNIFICANCE) | (size < 1.0)
    large = (size >= 1.5) & (p_above_one < SIGNIFICANCE)
    return np.where(negligible, NEGLIGIBLE, np.where(large, LARGE, MODERATE))


def _read_responses(responses) -> np.ndarray:
    x = np.asarray(responses)
    if x.dtype.kind != "f":
        # Integers and booleans have no NaN; anything else must convert to numbers.
        try:
            x = x.astype(float)
        except (TypeError, ValueError) as exc:
            raise ValueError("responses must be numbers: 1, 0 or NaN") from exc
    if x.ndim != 2:
        raise ValueError(f"responses must be a persons x items array, got shape {x.shape}")
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"responses must hold at least one person and one item: {x.shape}")
    return x


def _check_values_and_total(x: np.ndarray, *, want_total: bool) -> np.ndarray | None:
    """Refuse values other than 0, 1 and NaN; the total score over presented items if asked.

    Row blocks keep the temporaries small for a large matrix.
    """
    n_persons, n_items = x.shape
    totals = np.empty(n_persons) if want_total else None
    step = max(1, _BLOCK_CELLS // n_items)
    for first in range(0, n_persons, step):
        block = x[first : first + step]
        valid = (block == 0) | (block == 1) | np.isnan(block)
        if not valid.all():
            row, col = np.argwhere(~valid)[0]
            raise ValueError(
                "responses must be 1 (correct), 0 (wrong) or NaN (not presented); "
                f"person {first + row}, item {col} has {float(block[row, col])}"
            )
        if totals is not None:
            totals[first : first + step] = np.nansum(block, axis=1)
    return totals


def _read_focal(focal, n_persons: int) -> np.ndarray:
    g = np.asarray(focal)
    if g.shape != (n_persons,):
        raise ValueError(f"focal must hold one value per person ({n_persons}), got shape {g.shape}")
    if g.dtype != bool:
        if g.dtype.kind not in "iuf" or not np.all((g == 0) | (g == 1)):
            raise ValueError("focal must be True (focal group) or False (reference group)")
        g = g.astype(bool)
    if g.all() or not g.any():
        raise ValueError("both groups need members: focal marks no reference or no focal person")
    return g.astype(np.int64)


def _read_matching(matching, n_persons: int) -> np.ndarray:
    try:
        m = np.asarray(matching, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError("matching must be one number per person") from exc
    if m.shape != (n_persons,):
        raise ValueError(
            f"matching must hold one value per person ({n_persons}), got shape {m.shape}"
        )
    if not np.all(np.isfinite(m)):
        raise ValueError("matching scores must be finite")
    return m
