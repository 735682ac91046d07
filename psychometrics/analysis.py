"""Classical item analysis of one form: p-values, item-total correlations, KR-20, SEM.

Pure numpy; no Django. ``item_analysis(responses, *, choices=None, keys=None)`` takes one
form's complete persons x items score matrix (1 = correct, 0 = wrong; fractional scores of
partial-credit items are accepted) and returns an ``ItemAnalysis``.

Definitions (n persons, k items, X the total score over the k items)
------------------------------------------------------------------------
p                 mean item score (proportion correct for 0/1 items).
point_biserial    Pearson correlation of the item with X, the total INCLUDING the item.
item_rest         Pearson correlation of the item with X minus the item (the "corrected"
                  item-total correlation); the better index for short forms, since the
                  point-biserial is inflated by the item's own contribution.
mean, sd          of X; sd is the population value (ddof = 0).
kr20              KR-20 = k / (k - 1) * (1 - sum(item variances) / var(X)), item and total
                  variances both with ddof = 0. For 0/1 items the item variance is p(1 - p)
                  (this is the original KR-20); for partial credit it is coefficient alpha.
sem               sd * sqrt(1 - kr20), the classical standard error of measurement.
kr20_if_deleted   KR-20 of the k - 1 remaining items when the item is removed; items whose
                  value is above ``kr20`` lower the form's reliability
                  (``items_hurting_reliability`` lists them, worst first).

Upper and lower groups are the top and bottom 27% of persons by X (Kelley's groups). When
persons with the same total straddle a group boundary, each of them is counted with the
same fractional weight so that every group holds exactly 0.27 n persons and no one is
favoured by the order of the rows. ``p_upper``/``p_lower`` are the item's mean score in
those groups and ``discrimination_index`` their difference (the classical D).

Option analysis (when ``choices`` is given: a persons x items array of the option each
person chose, e.g. ints or strings, frozensets (or sets/lists) for multiple response;
None or NaN for "no answer", or "" in a numpy string array): for each item a dict
option -> proportion choosing it, overall (``option_rates``) and within the upper and
lower groups. Rates are out of all persons in the group, so the rates of an item sum to 1
minus its omission rate. ``keys`` (one key per item, in the same form as the choices)
adds the key to each item's options even if nobody chose it, and enables
``flagged_distractors``: per item, the distractors chosen at least as often by the upper
group as by the lower group (among those anybody chose).

``criterion_analysis(scores, rest, group_score, *, choices, key)`` gives the same figures
for one item judged against an outside criterion instead of the form's own total: a
pretest item against the operational score, or an item pooled over several forms. Its
correlations are None (not NaN) when undefined.

Degenerate cases: a zero-variance item (everybody right, or everybody wrong) has NaN
point-biserial and item-rest correlations (the correlation is 0 / 0); if the total score
has zero variance, kr20, sem and all correlations are NaN; with a single item kr20 and
kr20_if_deleted are NaN. Numpy never warns for these: NaN is the documented answer.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np

UPPER_LOWER_FRACTION = 0.27


@dataclass(frozen=True)
class ItemAnalysis:
    n_persons: int
    n_items: int
    p: np.ndarray
    point_biserial: np.ndarray
    item_rest: np.ndarray
    kr20_if_deleted: np.ndarray
    p_upper: np.ndarray
    p_lower: np.ndarray
    discrimination_index: np.ndarray
    mean: float
    sd: float
    kr20: float
    sem: float
    option_rates: list[dict] | None = None
    option_rates_upper: list[dict] | None = None
    option_rates_lower: list[dict] | None = None
    flagged_distractors: list[list] | None = None

    def items_hurting_reliability(self) -> list[int]:
        """Indices of items whose removal would raise KR-20, largest gain first."""
        gain = self.kr20_if_deleted - self.kr20
        hurting = np.flatnonzero(gain > 0)
        return [int(i) for i in hurting[np.argsort(-gain[hurting], kind="stable")]]


def item_analysis(responses, *, choices=None, keys=None) -> ItemAnalysis:
    x = np.asarray(responses, dtype=float)
    if x.ndim != 2:
        raise ValueError(f"responses must be a persons x items matrix, got shape {x.shape}")
    n, k = x.shape
    if n == 0 or k == 0:
        raise ValueError("responses must have at least one person and one item")
    if np.isnan(x).any():
        raise ValueError("item_analysis needs one form's complete matrix (found NaN)")

    total = x.sum(axis=1)
    mean = float(total.mean())
    total_c = total - mean
    var_total = float(total_c @ total_c / n)
    p = x.mean(axis=0)
    xc = x - p
    item_var = np.einsum("ij,ij->j", xc, xc) / n
    cov_total = xc.T @ total_c / n  # cov(item, total)
    var_rest = var_total - 2 * cov_total + item_var
    sum_item_var = float(item_var.sum())

    with np.errstate(divide="ignore", invalid="ignore"):
        point_biserial = cov_total / np.sqrt(item_var * var_total)
        item_rest = (cov_total - item_var) / np.sqrt(item_var * var_rest)
        if k > 1:
            kr20 = k / (k - 1) * (1 - sum_item_var / var_total) if var_total > 0 else math.nan
        else:
            kr20 = math.nan
        if k > 2:
            kr20_if_deleted = (k - 1) / (k - 2) * (1 - (sum_item_var - item_var) / var_rest)
            kr20_if_deleted = np.where(var_rest > 0, kr20_if_deleted, np.nan)
        else:
            kr20_if_deleted = np.full(k, np.nan)
    # Exact zeros can come out as tiny negatives/positives from the centring arithmetic.
    zero_item = item_var <= 1e-12 * max(1.0, float(np.abs(x).max()) ** 2)
    point_biserial = np.where(zero_item, np.nan, point_biserial)
    item_rest = np.where(zero_item | (var_rest <= 0), np.nan, item_rest)
    if var_total <= 0:
        point_biserial = np.full(k, np.nan)
        item_rest = np.full(k, np.nan)

    sd = math.sqrt(var_total)
    sem = sd * math.sqrt(1 - kr20) if not math.isnan(kr20) and kr20 <= 1 else math.nan

    upper_w, lower_w = _group_weights(total)
    p_upper = upper_w @ x / upper_w.sum()
    p_lower = lower_w @ x / lower_w.sum()

    rates = rates_upper = rates_lower = flagged = None
    if choices is not None:
        rates, rates_upper, rates_lower, flagged = _option_analysis(
            choices, keys, n, k, upper_w, lower_w
        )
    elif keys is not None and len(keys) != k:
        raise ValueError(f"keys must have one entry per item ({k}), got {len(keys)}")

    return ItemAnalysis(
        n_persons=n,
        n_items=k,
        p=p,
        point_biserial=point_biserial,
        item_rest=item_rest,
        kr20_if_deleted=np.asarray(kr20_if_deleted, dtype=float),
        p_upper=p_upper,
        p_lower=p_lower,
        discrimination_index=p_upper - p_lower,
        mean=mean,
        sd=sd,
        kr20=float(kr20),
        sem=float(sem),
        option_rates=rates,
        option_rates_upper=rates_upper,
        option_rates_lower=rates_lower,
        flagged_distractors=flagged,
    )


def criterion_analysis(
    scores: np.ndarray, rest: np.ndarray, group_score: np.ndarray, *, choices, key
) -> dict:
    """Classical statistics of one item against an outside criterion.

    `rest` is the score the item is correlated with (the operational total without the
    item; for a pretest item the operational total itself); the upper and lower 27% are
    formed on `group_score`, as ``item_analysis`` forms them on the total. `choices` holds
    each person's choice (None: no answer) and `key` the keyed choice (falsy: none).
    Returns p, point_biserial, item_rest, discrimination_index and option_rates_all /
    _upper / _lower.
    """
    n = len(scores)
    upper_w, lower_w = _group_weights(group_score)
    overall, upper, lower, _ = _option_analysis(
        np.asarray(choices, dtype=object).reshape(n, 1), [key or None], n, 1, upper_w, lower_w
    )
    return {
        "p": float(scores.mean()),
        "point_biserial": _corr(scores, rest + scores),
        "item_rest": _corr(scores, rest),
        "discrimination_index": float(
            upper_w @ scores / upper_w.sum() - lower_w @ scores / lower_w.sum()
        ),
        "option_rates_all": overall[0],
        "option_rates_upper": upper[0],
        "option_rates_lower": lower[0],
    }


def _corr(x: np.ndarray, y: np.ndarray) -> float | None:
    """Pearson correlation; None for fewer than two persons or a zero variance."""
    if len(x) < 2:
        return None
    xc, yc = x - x.mean(), y - y.mean()
    denominator = math.sqrt(float(xc @ xc) * float(yc @ yc))
    if denominator <= 1e-12:
        return None
    return float(xc @ yc) / denominator


def _group_weights(total: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weights (0..1) of membership in the upper and lower 27% groups by total score."""
    n = len(total)
    size = UPPER_LOWER_FRACTION * n
    return _top_weights(total, size), _top_weights(-total, size)


def _top_weights(score: np.ndarray, size: float) -> np.ndarray:
    values, inverse, counts = np.unique(score, return_inverse=True, return_counts=True)
    above = len(score) - np.cumsum(counts)  # persons with a strictly higher score
    # Share of each score level inside the group: full, partial at the boundary, or none.
    share = np.clip((size - above) / counts, 0.0, 1.0)
    return share[inverse.ravel()]


def _is_missing(value) -> bool:
    if value is None:
        return True
    try:
        return bool(isinstance(value, float | np.floating) and math.isnan(value))
    except TypeError:
        return False


def _option_analysis(choices, keys, n, k, upper_w, lower_w):
    c = np.asarray(choices, dtype=object) if not isinstance(choices, np.ndarray) else choices
    if c.shape != (n, k):
        raise ValueError(f"choices must have the shape of responses {(n, k)}, got {c.shape}")
    if keys is not None and len(keys) != k:
        raise ValueError(f"keys must have one entry per item ({k}), got {len(keys)}")
    weights = np.stack([np.ones(n), upper_w, lower_w])  # 3 x n
    sizes = weights.sum(axis=1)
    overall, upper, lower, flagged = [], [], [], []
    for j in range(k):
        codes, options = _factorize(c[:, j])
        m = len(options)
        counts = np.zeros((3, m + 1))
        for g in range(3):
            counts[g] = np.bincount(codes, weights=weights[g], minlength=m + 1)
        rates = counts[:, :m] / sizes[:, None]  # the last code is "no answer"
        key = None if keys is None or _is_missing(keys[j]) else _normalise(keys[j])
        if key is not None and key not in options:
            options.append(key)
            rates = np.hstack([rates, np.zeros((3, 1))])
        overall.append(dict(zip(options, rates[0].tolist(), strict=True)))
        upper.append(dict(zip(options, rates[1].tolist(), strict=True)))
        lower.append(dict(zip(options, rates[2].tolist(), strict=True)))
        if keys is not None:
            flagged.append(
                [
                    opt
                    for opt in options
                    if opt != key and upper[-1][opt] >= lower[-1][opt] and overall[-1][opt] > 0
                ]
            )
    return overall, upper, lower, (flagged if keys is not None else None)


def _normalise(value) -> Hashable:
    if isinstance(value, set | list | tuple):
        return frozenset(value)
    if isinstance(value, np.generic):
        return value.item()
    return value


def _factorize(column: np.ndarray) -> tuple[np.ndarray, list]:
    """Integer codes 0..m-1 for the observed options (in order of first appearance)
    and m for "no answer"."""
    if column.dtype.kind in "iub":
        options, codes = np.unique(column, return_inverse=True)
        return codes.ravel(), [o.item() for o in options]
    if column.dtype.kind in "US":
        options, codes = np.unique(column, return_inverse=True)
        blank = options == ""
        opts = [str(o) for o in options[~blank]]
        remap = np.cumsum(~blank) - 1
        remap[blank] = len(opts)
        return remap[codes.ravel()], opts
    if column.dtype.kind == "f":
        missing = np.isnan(column)
        options, codes = np.unique(column[~missing], return_inverse=True)
        out = np.full(len(column), len(options))
        out[~missing] = codes.ravel()
        return out, [o.item() for o in options]
    lookup: dict = {}
    raw = []
    for value in column.tolist():
        if _is_missing(value):
            raw.append(-1)
            continue
        value = _normalise(value)
        raw.append(lookup.setdefault(value, len(lookup)))
    codes = np.array(raw, dtype=np.int64)
    codes[codes < 0] = len(lookup)
    return codes, list(lookup)
