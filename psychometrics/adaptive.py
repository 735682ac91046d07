"""Item selection for adaptive practice: maximum information near the current ability,
weighted toward the candidate's weakest domains, with randomesque exposure control.

``domain_weights(proportions, domains)``  weight 1 + (1 - proportion correct) per domain:
                                          2 for a domain never answered right, 1 for one
                                          always right; 1.5 where nothing is known yet.
``next_item(theta, b, domains, ...)``      the index of the next item: every item not yet
                                          given is scored by its Rasch information at
                                          theta, P(1 - P), times its domain's weight; one
                                          of the ``k`` best is drawn at random (the
                                          "randomesque" method of Kingsbury and Zara 1989),
                                          so that the most informative items are not shown
                                          to every candidate of the same ability.
``should_stop(se, n, max_items)``          stop once the ability's standard error is at
                                          most ``SE_TARGET`` (0.30 logits) or ``max_items``
                                          items were given.

Why not catsim: it has RandomesqueSelector and MaxInfoSelector, but no weighting of
information by content domain, and it brings matplotlib, scikit-learn, numexpr, tqdm and
json_tricks into the web application for what is a few lines of numpy here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
from scipy.special import expit

SE_TARGET = 0.30
TOP_K = 5
UNKNOWN_WEIGHT = 1.5


def domain_weights(proportions: Mapping[int, float] | None, domains: Iterable[int]) -> dict:
    """Weight per domain: 1 + (1 - proportion correct), UNKNOWN_WEIGHT when unknown."""
    known = proportions or {}
    weights = {}
    for d in domains:
        p = known.get(d)
        weights[d] = UNKNOWN_WEIGHT if p is None else 1.0 + (1.0 - min(max(float(p), 0.0), 1.0))
    return weights


def next_item(
    theta: float,
    difficulties: Sequence[float],
    domains: Sequence[int],
    *,
    administered: Iterable[int] = (),
    weights: Mapping[int, float] | None = None,
    k: int = TOP_K,
    rng: np.random.Generator,
) -> int | None:
    """Index of the next item (see the module docstring); None when every item was given."""
    b = np.asarray(difficulties, dtype=float)
    if b.ndim != 1 or len(domains) != b.size:
        raise ValueError("one difficulty and one domain per item are needed")
    if k < 1:
        raise ValueError("k must be at least 1")
    available = np.ones(b.size, dtype=bool)
    given = list(administered)
    if given:
        available[given] = False
    if not available.any():
        return None
    p = expit(float(theta) - b)
    w = np.array([(weights or {}).get(d, 1.0) for d in domains], dtype=float)
    score = np.where(available, p * (1.0 - p) * w, -np.inf)
    top = min(k, int(available.sum()))
    # Stable order (by score, then by index) so that a seeded draw is reproducible.
    best = np.lexsort((np.arange(b.size), -score))[:top]
    return int(best[int(rng.integers(top))])


def should_stop(se: float, n: int, max_items: int, *, se_target: float = SE_TARGET) -> bool:
    return n >= max_items or se <= se_target
