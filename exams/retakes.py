"""Retakes on a form the candidate has not seen (read side: what the next attempt will be).

A second attempt on the same form measures memory as much as skill. When a candidate
starts another attempt on an assigned form, delivery (exams.services.attempt_start) gives
them, in this order:
1. a new form assembled from the assigned form's blueprint with none of the items of any
   exam form they have sat (pretest items included), when the bank has enough fresh items
   and the form can be put on the 100–400 scale (every operational item calibrated with a
   base form to equate to, or rated by an Angoff panel: the scoring app answers through
   `register_scale_check`);
2. otherwise an existing published form of the same blueprint they have not sat (it is
   already on the scale), the one sharing the fewest items with what they have seen;
3. otherwise the same form again, and the instructions page says plainly it is a repeat.

The attempt records the assigned form (`Attempt.assigned_form`), so its window, attempt
limit and review policy stay the assignment's. This module only reads; the form is built
and published by exams.services when the attempt starts.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from django.db.models import Count, Q

from exams.assembly import AssemblyError, Plan, Unit, plan_form_report
from exams.models import Attempt, ExamForm, FormItem
from questionbank.models import ItemVersion

FIRST = "first"  # no earlier attempt on this assignment: the assigned form
NEW = "new"  # a form to assemble, with no item the candidate has seen
UNSEEN = "unseen"  # an existing published form the candidate has not sat
REPEAT = "repeat"  # the assigned form again


class ScaleCheck(Protocol):
    def obstacle(
        self, *, blueprint_id: int, version_ids: list[int], program_owned: bool = False
    ) -> str | None:
        """Why a form of these operational versions could not be put on the scale, or None."""


class _NoScale:
    def obstacle(
        self, *, blueprint_id: int, version_ids: list[int], program_owned: bool = False
    ) -> str | None:
        return "no scoring is installed to build its conversion table"


_scale_check: ScaleCheck = _NoScale()


def register_scale_check(check: ScaleCheck) -> None:
    global _scale_check
    _scale_check = check


@dataclass(frozen=True)
class RetakePlan:
    kind: str
    form: ExamForm | None  # the form to sit; None for NEW (built when the attempt starts)
    attempt_number: int = 1
    plan: Plan | None = None  # NEW: the items the new form will hold
    seed: int = 0
    reason: str = ""  # REPEAT: why no unseen form could be given
    shared_items: int = 0  # UNSEEN: items it shares with forms the candidate has sat

    @property
    def is_retake(self) -> bool:
        return self.kind != FIRST

    @property
    def is_repeat(self) -> bool:
        return self.kind == REPEAT


@dataclass(frozen=True)
class Seen:
    attempts_on_assignment: int
    form_ids: set[int]
    item_ids: set[int]
    version_ids: set[int]


def seen_by(*, candidate, form: ExamForm) -> Seen:
    """The candidate's exam attempts on this assignment, and every form and item of any
    exam form they have sat."""
    exams = Attempt.objects.exams().filter(candidate_id=candidate.pk)
    on_assignment = exams.filter(Q(form_id=form.pk) | Q(assigned_form_id=form.pk)).count()
    form_ids = set(exams.values_list("form_id", flat=True).distinct())
    rows = FormItem.objects.filter(form_id__in=form_ids).values_list(
        "item_version_id", "item_version__item_id"
    )
    return Seen(on_assignment, form_ids, {i for _, i in rows}, {v for v, _ in rows})


def retake_seed(*, candidate_id: int, form_id: int, number: int) -> int:
    """Reproducible per candidate, assignment and attempt number: the plan shown on the
    instructions page is the one the start builds."""
    digest = hashlib.sha256(f"retake:{candidate_id}:{form_id}:{number}".encode()).digest()
    return int.from_bytes(digest[:6], "big")


def fresh_units(rows: Iterable[tuple[int, int, int, int | None]], seen: set[int]) -> list[Unit]:
    """Bank rows (version, item, domain number, case) grouped into placement units, leaving
    out every unit with an item in `seen` (a case goes whole or not at all)."""
    by_case: dict[int, list[tuple]] = defaultdict(list)
    units = []
    for version_id, item_id, domain, case_id in rows:
        if case_id is None:
            if item_id not in seen:
                units.append(Unit((version_id,), (domain,), None, item_ids=(item_id,)))
        else:
            by_case[case_id].append((version_id, item_id, domain))
    for case_id, members in by_case.items():
        if any(m[1] in seen for m in members):
            continue
        members.sort()
        units.append(
            Unit(
                tuple(m[0] for m in members),
                tuple(m[2] for m in members),
                case_id,
                item_ids=tuple(m[1] for m in members),
            )
        )
    return units


def _fresh_plan(
    *, form: ExamForm, seen: Seen, seed: int, enemies: Mapping
) -> tuple[Plan | None, str]:
    blueprint = form.blueprint
    pool = ItemVersion.objects.shared_or_of(form.owner_program_id)

    def rows(queryset):
        return list(queryset.values_list("pk", "item_id", "domain__number", "case_id"))

    try:
        plan = plan_form_report(
            counts=blueprint.domain_counts(),
            pretest_count=blueprint.pretest_count,
            operational=fresh_units(rows(pool.operational()), seen.item_ids),
            pretest=fresh_units(rows(pool.pretest()), seen.item_ids),
            seed=seed,
            enemies=enemies,
        )
    except AssemblyError as exc:
        return None, f"the bank has too few questions you have not seen ({exc})"
    operational = [p.version_id for p in plan.items if not p.is_pretest]
    obstacle = _scale_check.obstacle(
        blueprint_id=blueprint.pk,
        version_ids=operational,
        program_owned=form.owner_program_id is not None,
    )
    if obstacle:
        return None, f"a new form could not be scored on the scale: {obstacle}"
    return plan, ""


def unseen_form(*, form: ExamForm, seen: Seen) -> tuple[ExamForm | None, int]:
    """A published form of the same blueprint the candidate has not sat, sharing the fewest
    items with what they have seen (and the number it shares)."""
    candidates = (
        ExamForm.objects.exams()
        .published()
        .offerable()  # never another candidate's personal retake form
        .filter(blueprint_id=form.blueprint_id)
        .shared_or_of(form.owner_program_id)
        .exclude(pk__in=seen.form_ids | {form.pk})
        .annotate(
            shared=Count("items", filter=Q(items__item_version__item_id__in=list(seen.item_ids)))
        )
        .order_by("shared", "published_at", "pk")
    )
    best = candidates.first()
    return (best, best.shared) if best is not None else (None, 0)


def retake_plan(*, candidate, form: ExamForm, enemies: Mapping) -> RetakePlan:
    """What the candidate's next attempt on assigned form `form` will be sat on."""
    seen = seen_by(candidate=candidate, form=form)
    number = seen.attempts_on_assignment + 1
    if seen.attempts_on_assignment == 0:
        return RetakePlan(FIRST, form)
    if form.blueprint_id is None:
        reasons = ["this exam has no blueprint to build another form from"]
    else:
        seed = retake_seed(candidate_id=candidate.pk, form_id=form.pk, number=number)
        plan, why = _fresh_plan(form=form, seen=seen, seed=seed, enemies=enemies)
        if plan is not None:
            return RetakePlan(NEW, None, number, plan=plan, seed=seed)
        reasons = [why]
        other, shared = unseen_form(form=form, seen=seen)
        if other is not None:
            return RetakePlan(UNSEEN, other, number, shared_items=shared)
        reasons.append("no other published form of this exam is left that you have not taken")
    return RetakePlan(REPEAT, form, number, reason="; ".join(reasons))
