"""Adaptive practice: the next item picked for the candidate's current ability.

Difficulties are calibrations, which scoring (above exams) owns: scoring registers a
CalibrationSource here from its AppConfig.ready(); without one adaptive practice is not
offered. The selection itself is pure (psychometrics.adaptive).

A session's state lives on the attempt (practice_settings): the estimates so far and
whether it stopped. The practice form grows by one item (or one scenario case) at a time;
it is a draft practice set, never published, so adding to it is allowed.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Protocol

import numpy as np
from django.core.exceptions import ValidationError
from django.db import transaction

from exams.assembly import attempt_layout
from exams.models import Attempt, AttemptState, FormItem, Response
from psychometrics.adaptive import SE_TARGET, domain_weights, next_item, should_stop
from psychometrics.items import score_item
from psychometrics.rasch import estimate_theta
from questionbank.models import ItemVersion, Option
from questionbank.services import item_versions_lock


class CalibrationSource(Protocol):
    def difficulties(self, version_ids) -> dict[int, float]: ...

    def start(self, *, user) -> tuple[float, dict[int, float]]:
        """Starting ability and known proportion correct per domain number."""
        ...

    def predicted_score(self, *, theta: float, se: float) -> tuple[int, int, int] | None:
        """(scaled, low, high) on the exam's scale, or None without a calibrated base form."""
        ...


_source: CalibrationSource | None = None


def register(source: CalibrationSource | None) -> None:
    global _source
    _source = source


def available() -> bool:
    return _source is not None


def _pool(domains) -> list[tuple[int, int | None, int, float]]:
    """(version id, case id, domain number, difficulty) of calibrated operational items of
    the domains, in id order. Pretest items are never in it: they are not operational."""
    rows = list(
        ItemVersion.objects.operational()
        .filter(domain__number__in=list(domains))
        .order_by("pk")
        .values_list("pk", "case_id", "domain__number")
    )
    b = _source.difficulties([pk for pk, _, _ in rows]) if _source else {}
    return [(pk, case, d, b[pk]) for pk, case, d in rows if pk in b]


def first_items(*, candidate, domains, seed: int) -> tuple[list[int], dict]:
    """The first item (or case) of a session and the session's starting state."""
    if _source is None:
        raise ValidationError("Adaptive practice needs calibrated items; none are available.")
    pool = _pool(domains)
    if not pool:
        raise ValidationError("No calibrated items in those domains yet: try a fixed set.")
    theta, proportions = _source.start(user=candidate)
    weights = domain_weights(proportions, sorted(set(domains)))
    chosen = _choose(pool, theta, weights, given=set(), seed=seed)
    state = {
        "adaptive": True,
        "theta_start": theta,
        "weights": {str(d): w for d, w in weights.items()},
        "estimates": [],
        "stopped": False,
        "se_target": SE_TARGET,
    }
    return chosen, state


def _choose(pool, theta: float, weights: dict, *, given: set[int], seed: int) -> list[int]:
    index = next_item(
        theta,
        [b for *_, b in pool],
        [d for _, _, d, _ in pool],
        administered=[i for i, row in enumerate(pool) if row[0] in given],
        weights=weights,
        rng=np.random.default_rng(seed),
    )
    if index is None:
        return []
    version_id, case_id, _, _ = pool[index]
    if case_id is None:
        return [version_id]
    # A scenario case comes whole, its items in order: they share one health record.
    return [pk for pk, case, _, _ in pool if case == case_id and pk not in given]


def estimate(*, attempt: Attempt) -> tuple[float, float, int]:
    """(theta, se, items) from the session's answers so far (unanswered counts wrong)."""
    rows = list(
        FormItem.objects.filter(form_id=attempt.form_id).values_list("pk", "item_version_id")
    )
    versions = [v for _, v in rows]
    b = _source.difficulties(versions) if _source else {}
    keys: dict[int, set[int]] = defaultdict(set)
    kinds = dict(ItemVersion.objects.filter(pk__in=versions).values_list("pk", "kind"))
    partial = dict(ItemVersion.objects.filter(pk__in=versions).values_list("pk", "partial_credit"))
    for version_id, pk in Option.objects.filter(version_id__in=versions, is_key=True).values_list(
        "version_id", "pk"
    ):
        keys[version_id].add(pk)
    selections = dict(
        Response.objects.filter(attempt=attempt).values_list("form_item_id", "selection")
    )
    x, d = [], []
    for form_item_id, version_id in rows:
        if version_id not in b:
            continue
        score = score_item(
            kinds[version_id],
            frozenset(keys[version_id]),
            selections.get(form_item_id),
            partial=partial[version_id],
        )
        x.append(1.0 if score >= 1.0 else 0.0)
        d.append(b[version_id])
    if not x:
        return float(attempt.practice_settings.get("theta_start", 0.0)), float("inf"), 0
    theta, se = estimate_theta(np.array(x), np.array(d), method="wle")
    return float(theta), float(se), len(x)


@transaction.atomic
def practice_next(*, attempt: Attempt) -> int | None:
    """Move an adaptive session on: estimate the ability from the answers so far, stop at
    SE 0.30 or the chosen length, else add the next item. Returns the position to show
    (the new item, or the last one while it is unanswered: asking twice adds nothing), or
    None when the session is over."""
    attempt = Attempt.objects.select_for_update().get(pk=attempt.pk)
    state = dict(attempt.practice_settings or {})
    if not state.get("adaptive") or attempt.state != AttemptState.IN_PROGRESS:
        return None
    if state.get("stopped"):
        return None
    last_id = attempt.layout[-1][0] if attempt.layout else None
    if (
        last_id
        and not Response.objects.filter(attempt=attempt, form_item_id=last_id)
        .exclude(selection=[])
        .exists()
    ):
        return len(attempt.layout)
    theta, se, n = estimate(attempt=attempt)
    record = {"n": n, "theta": theta, "se": se}
    predicted = _source.predicted_score(theta=theta, se=se) if _source else None
    if predicted is not None:
        record.update(scaled=predicted[0], low=predicted[1], high=predicted[2])
    state["estimates"] = [*state.get("estimates", []), record]
    domains = state.get("domains", [])
    given = set(
        FormItem.objects.filter(form_id=attempt.form_id).values_list("item_version_id", flat=True)
    )
    chosen = []
    if not should_stop(se, n, int(state.get("count", 0))):
        weights = {int(k): v for k, v in state.get("weights", {}).items()}
        chosen = _choose(_pool(domains), theta, weights, given=given, seed=attempt.seed + n)
    if not chosen:
        state["stopped"] = True
        state["stop_reason"] = (
            "precision"
            if se <= SE_TARGET
            else "length"
            if n >= int(state.get("count", 0))
            else "bank"
        )
        Attempt.objects.filter(pk=attempt.pk).update(practice_settings=state)
        return None
    start = len(attempt.layout) + 1
    created = FormItem.objects.bulk_create(
        FormItem(form_id=attempt.form_id, position=start + i, item_version_id=v)
        for i, v in enumerate(chosen)
    )
    item_versions_lock(version_ids=chosen)
    options: dict[int, list[int]] = defaultdict(list)
    for version_id, pk in (
        Option.objects.filter(version_id__in=chosen)
        .order_by("version_id", "position")
        .values_list("version_id", "pk")
    ):
        options[version_id].append(pk)
    choose = dict(ItemVersion.objects.filter(pk__in=chosen).values_list("pk", "choose"))
    rows = [
        (fi.pk, None, choose[fi.item_version_id], options[fi.item_version_id]) for fi in created
    ]
    layout = attempt.layout + attempt_layout(
        rows=rows, seed=attempt.seed + start, shuffle_items=False, shuffle_options=True
    )
    Attempt.objects.filter(pk=attempt.pk).update(layout=layout, practice_settings=state)
    return start
