"""Cut scores and raw-to-scaled conversion tables.

A form's conversion table maps every raw score 0..max_raw to a scaled score: ``low`` (100)
at raw 0, ``high`` (400) at max_raw, and ``passing`` (300) exactly at the raw passing score,
the smallest whole raw score at or above the cut. Between those anchors it is piecewise
linear, rounded half up.

Floating-point tolerance. Cuts and fractional raw scores are rounded to
``DECIMALS`` (9) decimal places before any ceiling, comparison or half-up rounding. An Angoff
cut is a sum of ~100 ratings, so a panel that "meant" 57 can arrive as 57.00000000000001,
and a naive ``ceil`` would then demand 58. Nine decimals is far coarser than that noise
(~1e-13 for sums of this size) and far finer than any meaningful difference between cuts.
The consequence: a cut within 5e-10 of an integer *is* that integer, and a cut that rounds
to 0 or to max_raw is out of range.
"""

from __future__ import annotations

import math
import operator

import numpy as np

DECIMALS = 9


def _clean(x: float) -> float:
    """Round away accumulated floating-point noise (see the module docstring)."""
    return round(float(x), DECIMALS)


def round_half_up(x: float) -> int:
    """Round to the nearest integer, halves upward (112.5 -> 113).

    Python's ``round`` uses banker's rounding (``round(112.5) == 112``), which would make a
    published table look inconsistent to anyone checking it by hand.
    """
    return math.floor(_clean(x) + 0.5)


def angoff_cut(ratings) -> float:
    """Modified-Angoff cut score: the mean over judges of each judge's summed ratings.

    ``ratings`` is a judges x items array of probabilities in [0, 1] that a minimally
    competent candidate answers the item correctly; NaN where a judge did not rate an item.
    A missing rating is filled with that item's mean over the judges who rated it, so that
    a judge who skipped an item neither lowers the cut (as a 0 would) nor shifts the
    panel's weight onto the remaining items. (A judge who rated nothing therefore has no
    influence at all.)

    Raises ``ValueError`` for an empty or non-2-D array, a rating outside [0, 1]
    (including infinities), and an item that no judge rated (naming its index), since that
    item's expected contribution to the cut would be unknown.
    """
    r = np.asarray(ratings, dtype=float)
    if r.size == 0:
        raise ValueError("no Angoff ratings")
    if r.ndim != 2:
        raise ValueError(f"ratings must be judges x items (2-D), got {r.ndim}-D")
    rated = ~np.isnan(r)
    values = r[rated]
    if np.any((values < 0) | (values > 1)):
        raise ValueError("Angoff ratings must lie in [0, 1]")
    unrated = np.flatnonzero(~rated.any(axis=0))
    if unrated.size:
        raise ValueError(f"item {int(unrated[0])} has no Angoff rating from any judge")
    item_means = np.nanmean(r, axis=0)
    filled = np.where(rated, r, item_means)
    return float(filled.sum(axis=1).mean())


def raw_passing_score(cut: float) -> int:
    """The smallest whole raw score at or above ``cut``.

    The cut is first rounded to 9 decimals, so 57.00000000001 (noise from summing
    ratings) gives 57, not 58; see the module docstring for the tolerance.
    """
    c = float(cut)
    if not math.isfinite(c):
        raise ValueError(f"cut must be finite, got {cut!r}")
    return math.ceil(_clean(c))


def _check_scale(low: int, passing: int, high: int) -> None:
    if not low < passing < high:
        raise ValueError(f"need low < passing < high, got {low}, {passing}, {high}")


def _check_range(max_raw: int, cut: float) -> tuple[int, float, int]:
    """Validate (max_raw, cut) and return (max_raw, cleaned cut, raw passing score)."""
    try:
        n = operator.index(max_raw)
    except TypeError:
        raise ValueError(f"max_raw must be an integer, got {max_raw!r}") from None
    if n < 1:
        raise ValueError(f"max_raw must be at least 1, got {n}")
    p = raw_passing_score(cut)
    c = _clean(cut)
    if not 0 < c < n:
        raise ValueError(f"cut {cut!r} must lie strictly between 0 and max_raw={n}")
    return n, c, p


def scaled_score(
    raw: float,
    *,
    max_raw: int,
    cut: float,
    low: int = 100,
    passing: int = 300,
    high: int = 400,
) -> int:
    """Scale a (possibly fractional) raw score on a form with ``max_raw`` points and ``cut``.

    This is the function behind :func:`conversion_table`; IRT equating evaluates it at the
    fractional base-form equivalents of another form's raw scores, so both paths produce the
    same numbers when the equivalents are whole.

    - ``raw <= 0`` gives ``low`` and ``raw >= max_raw`` gives ``high``.
    - Below the cut: on the line from (0, low) to (p, passing), p the raw passing score,
      rounded half up and clamped to ``passing - 1``, because a score that did not reach
      the cut must never display as a pass.
    - From the cut up to p: exactly ``passing``. Whole raw scores never fall strictly
      between cut and p; fractional equivalents from equating do, and they met the standard.
    - Above p: on the line from (p, passing) to (max_raw, high), rounded half up.

    When p == max_raw (a cut above max_raw - 1) the two anchors collide at the top; the top
    keeps ``high``, so the table still spans the full scale, and the one passing raw score
    shows 400 instead of 300. Pass/fail is unaffected.
    """
    _check_scale(low, passing, high)
    n, c, p = _check_range(max_raw, cut)
    x = _clean(raw)
    if math.isnan(x):
        raise ValueError("raw score is NaN")
    if x <= 0:
        return low
    if x >= n:
        return high
    if x < c:
        return min(round_half_up(low + (passing - low) * x / p), passing - 1)
    if x <= p:
        return passing
    return round_half_up(passing + (high - passing) * (x - p) / (n - p))


def conversion_table(
    max_raw: int,
    cut: float,
    *,
    low: int = 100,
    passing: int = 300,
    high: int = 400,
) -> list[int]:
    """Raw-to-scaled table for raw scores 0..max_raw (``max_raw + 1`` entries).

    Monotone non-decreasing, ``low`` at 0, ``high`` at max_raw, ``passing`` exactly at
    :func:`raw_passing_score` (cut), and below ``passing`` for every lower raw score. When
    the raw passing score equals max_raw, the top entry is ``high`` (see
    :func:`scaled_score`). A cut outside the open interval (0, max_raw), after the 9-decimal
    tolerance, raises ``ValueError``: such a cut would make everyone pass or no one.
    """
    _check_scale(low, passing, high)
    n, _, _ = _check_range(max_raw, cut)
    return [
        scaled_score(r, max_raw=n, cut=cut, low=low, passing=passing, high=high)
        for r in range(n + 1)
    ]
