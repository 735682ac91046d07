"""Scoring one attempt: item scores, raw, scaled, pass, domain bands and precision.

Pure Python + numpy (no Django): ``scoring.services.attempt_score`` reads the form, the
responses and the conversion table from the database, calls :func:`score_attempt` and
stores what it returns. Keeping the computation here is what lets the rules below be
tested as properties over thousands of random attempts without a database.

Rules (docs/architecture.md, "Exam facts and scoring rules"):

- Every item is scored, pretest included (item analysis needs those scores), but only
  operational items count: raw score, scaled score, pass, domain results and the ability
  estimate never see a pretest item.
- The scaled score is a lookup in the form's raw-to-scaled table. Partial credit can make
  the raw score fractional; the table has one row per whole raw score and a fraction
  short of the next whole score does not earn it (the row of the whole part is used), so
  nobody passes below the form's raw passing score.
- Domain bands compare the percent correct in a domain with the percent a minimally
  competent candidate is expected to get on the same items, within ``BAND_MARGIN``.
- On a calibrated form (every operational item has a Rasch difficulty on the bank scale)
  the attempt also gets an ability estimate (Warm's WLE) and its standard error, carried
  to the scale and turned into a probability of passing.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from psychometrics.items import score_item
from psychometrics.rasch import estimate_theta, expected_score, theta_for_expected_score
from psychometrics.scale import _clean, round_half_up

PASSING = 300

# Percentage points either side of the minimally competent candidate's expected percent
# within which a domain counts as "near the standard". Domains hold 8 to 55 scored items,
# so one item is worth 2 to 12 points: a narrower margin would turn single answers into
# band changes, a wider one would call most domains "near". The report states the margin.
BAND_MARGIN = 10.0

BELOW, NEAR, ABOVE = "below", "near", "above"

# Where a domain's expected percent comes from.
FROM_ANGOFF = "angoff"  # the mean Angoff rating of the domain's items
FROM_RASCH = "rasch"  # the expected score at the ability of the cut (calibrated forms)


@dataclass(frozen=True)
class ItemSpec:
    """What scoring needs to know about one item of a form."""

    ref: Hashable  # identifies the item in selections and item_scores (the form item id)
    kind: str  # "single", "multiple" or "select_all"
    keys: frozenset
    partial: bool = False
    pretest: bool = False
    domain: int = 0
    angoff: float | None = None  # mean Angoff rating over the judges, 0..1
    difficulty: float | None = None  # Rasch difficulty on the bank scale


@dataclass(frozen=True)
class DomainResult:
    domain: int
    score: float  # points earned on the domain's operational items
    items: int
    percent: float
    expected: float | None  # percent expected of a minimally competent candidate
    expected_from: str | None  # FROM_ANGOFF or FROM_RASCH
    band: str | None  # BELOW, NEAR, ABOVE, or None without a standard to compare with


@dataclass(frozen=True)
class AttemptScore:
    item_scores: dict
    raw: float
    max_raw: int
    scaled: int | None = None
    passed: bool | None = None
    domains: list[DomainResult] = field(default_factory=list)
    theta: float | None = None
    theta_se: float | None = None
    theta_cut: float | None = None
    scaled_low: int | None = None
    scaled_high: int | None = None
    pass_probability: float | None = None


def lookup(table: Sequence[int], raw: float) -> int:
    """The table's scaled score for a raw score: the row of its whole part."""
    index = math.floor(_clean(raw))
    return int(table[min(max(index, 0), len(table) - 1)])


def interpolate(table: Sequence[int], raw: float) -> int:
    """The table read at a fractional raw score, linearly between neighbouring rows.

    Used only for the ends of the ± one standard error range, which are expected raw
    scores (fractional by nature) rather than scores anyone obtained.
    """
    x = min(max(_clean(raw), 0.0), float(len(table) - 1))
    lo = math.floor(x)
    hi = min(lo + 1, len(table) - 1)
    return round_half_up(table[lo] + (table[hi] - table[lo]) * (x - lo))


def band(percent: float, expected: float, *, margin: float = BAND_MARGIN) -> str:
    gap = _clean(percent - expected)
    if gap < -margin:
        return BELOW
    if gap > margin:
        return ABOVE
    return NEAR


def normal_cdf(z: float) -> float:
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


def score_attempt(
    items: Iterable[ItemSpec],
    selections: Mapping[Hashable, object],
    *,
    table: Sequence[int] | None = None,
    cut: float | None = None,
    passing: int = PASSING,
    margin: float = BAND_MARGIN,
) -> AttemptScore:
    """Score one attempt.

    ``selections`` maps an item's ``ref`` to what the candidate selected (a missing entry
    or an empty selection is unanswered and scores 0). ``table`` is the form's conversion
    table (``max_raw + 1`` rows) and ``cut`` its raw cut; without a table (practice sets,
    forms published before tables existed) scaled and passed stay None.

    Raises ValueError for a table of the wrong length and for an authoring error on an
    item (see ``psychometrics.items.score_item``).
    """
    specs = list(items)
    item_scores = {
        spec.ref: score_item(spec.kind, spec.keys, selections.get(spec.ref), partial=spec.partial)
        for spec in specs
    }
    operational = [s for s in specs if not s.pretest]
    max_raw = len(operational)
    scores = np.array([item_scores[s.ref] for s in operational], dtype=float)
    raw = _clean(scores.sum()) if max_raw else 0.0

    scaled = passed = None
    if table is not None:
        if len(table) != max_raw + 1:
            raise ValueError(
                f"the conversion table has {len(table)} rows; {max_raw} operational items "
                f"need {max_raw + 1}"
            )
        scaled = lookup(table, raw)
        passed = scaled >= passing

    b = np.array([s.difficulty for s in operational], dtype=float)
    calibrated = max_raw > 0 and all(s.difficulty is not None for s in operational)
    calibrated = calibrated and bool(np.all(np.isfinite(b)))
    theta_cut = None
    if calibrated and cut is not None and 0 < _clean(cut) < max_raw:
        theta_cut = float(theta_for_expected_score(cut, b))

    precision = {}
    if calibrated:
        # Rasch abilities are defined for right/wrong answers; a partially credited item
        # counts as right only when fully right, like in the item calibration.
        responses = (scores >= 1.0).astype(float)
        theta, se = estimate_theta(responses, b, method="wle")
        precision = {"theta": theta, "theta_se": se, "theta_cut": theta_cut}
        if table is not None:
            low = interpolate(table, expected_score(theta - se, b))
            high = interpolate(table, expected_score(theta + se, b))
            precision["scaled_low"] = min(low, scaled)
            precision["scaled_high"] = max(high, scaled)
        if theta_cut is not None:
            precision["pass_probability"] = normal_cdf((theta - theta_cut) / se)

    domains = _domains(operational, item_scores, theta_cut=theta_cut, margin=margin)
    return AttemptScore(
        item_scores=item_scores,
        raw=raw,
        max_raw=max_raw,
        scaled=scaled,
        passed=passed,
        domains=domains,
        **precision,
    )


def _domains(
    operational: list[ItemSpec], item_scores: dict, *, theta_cut: float | None, margin: float
) -> list[DomainResult]:
    by_domain: dict[int, list[ItemSpec]] = {}
    for spec in operational:
        by_domain.setdefault(spec.domain, []).append(spec)
    results = []
    for number in sorted(by_domain):
        specs = by_domain[number]
        score = _clean(sum(item_scores[s.ref] for s in specs))
        percent = 100.0 * score / len(specs)
        expected, source = None, None
        if all(s.angoff is not None for s in specs):
            expected = 100.0 * float(np.mean([s.angoff for s in specs]))
            source = FROM_ANGOFF
        elif theta_cut is not None:
            b = np.array([s.difficulty for s in specs], dtype=float)
            expected = 100.0 * expected_score(theta_cut, b) / len(specs)
            source = FROM_RASCH
        results.append(
            DomainResult(
                domain=number,
                score=score,
                items=len(specs),
                percent=percent,
                expected=expected,
                expected_from=source,
                band=None if expected is None else band(percent, expected, margin=margin),
            )
        )
    return results
