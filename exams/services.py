"""Writes for exam delivery: assembling and publishing forms, attempts, saving answers."""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import random
import secrets
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from common.errors import ApplicationError
from common.lifecycle import log_event
from common.rows import RowInserter
from exams import adaptive, eligibility, retakes, selectors, signals
from exams.assembly import AssemblyError, Unit, attempt_layout, plan_form_report
from exams.models import (
    Attempt,
    AttemptMode,
    AttemptState,
    Blueprint,
    ExamForm,
    FormItem,
    FormKind,
    FormStatus,
    Response,
    blueprint_totals_error,
)
from questionbank.models import Item, ItemKind, ItemStatus, ItemVersion, Option, enemy_pairs
from questionbank.services import item_versions_lock
from tenancy.audit import with_actor
from tenancy.scoping import AUTHORS_PROGRAM, may_change, owner_for

logger = logging.getLogger(__name__)

# Practice sets are timed at the pace of the real exam: 240 minutes for 107 items.
PRACTICE_SECONDS_PER_ITEM = round(240 * 60 / 107)
PRACTICE_MAX_ITEMS = 107


class SaveRefused(ApplicationError):
    """A save the server will not store (HTTP 400): options not on the item, too many."""


class AttemptRefused(ApplicationError, PermissionDenied):
    """A visible exam that cannot be started now (window closed, attempts used up)."""

    status_code = 403


class AttemptClosed(ApplicationError):
    """The attempt no longer accepts writes (HTTP 409)."""

    status_code = 409

    def __init__(self, message: str, *, attempt_id: int):
        super().__init__(message)
        self.attempt_id = attempt_id


def save_grace_seconds() -> float:
    """Seconds after the deadline during which a save already in flight is accepted."""
    return float(settings.CCS_SAVE_GRACE_SECONDS)


# --- Form assembly ----------------------------------------------------------------------
def _units(rows: Iterable[tuple[int, int, int, int | None]], avoid_items: set[int]) -> list[Unit]:
    """Bank rows (version id, item id, domain number, case id) grouped into placement units."""
    by_case: dict[int, list[tuple]] = defaultdict(list)
    units = []
    for row in rows:
        if row[3] is None:
            units.append(
                Unit((row[0],), (row[2],), None, row[1] not in avoid_items, item_ids=(row[1],))
            )
        else:
            by_case[row[3]].append(row)
    for case_id, members in by_case.items():
        members.sort()
        units.append(
            Unit(
                tuple(m[0] for m in members),
                tuple(m[2] for m in members),
                case_id,
                not any(m[1] in avoid_items for m in members),
                item_ids=tuple(m[1] for m in members),
            )
        )
    return units


def _bank_rows(queryset) -> list[tuple[int, int, int, int | None]]:
    return list(queryset.values_list("pk", "item_id", "domain__number", "case_id"))


@dataclass(frozen=True)
class AssemblyReport:
    """What assembly did beyond the blueprint: the enemy pairs it kept apart (an item on the
    form, and its enemy in the bank left off because of it, by item key) and the anchor
    versions it placed."""

    enemies_kept_apart: list[tuple[str, str]]
    anchors: int = 0

    def __str__(self) -> str:
        pairs = ", ".join(f"{a} (not {b})" for a, b in self.enemies_kept_apart[:8])
        more = len(self.enemies_kept_apart) - 8
        text = f"enemies kept apart: {len(self.enemies_kept_apart)}"
        if pairs:
            text += f" — {pairs}" + (f" and {more} more" if more > 0 else "")
        if self.anchors:
            text += f"; anchor items: {self.anchors}"
        return text


def active_enemies() -> dict[int, set[int]]:
    """Item id → the item ids it must never share a form with, among items that have an
    operational or pretest version (the ones assembly can choose)."""
    active = set(
        ItemVersion.objects.filter(status__in=[ItemStatus.OPERATIONAL, ItemStatus.PRETEST])
        .values_list("item_id", flat=True)
        .distinct()
    )
    enemies: dict[int, set[int]] = defaultdict(set)
    for pair in enemy_pairs():
        a, b = sorted(pair)
        if a in active and b in active:
            enemies[a].add(b)
            enemies[b].add(a)
    return dict(enemies)


@transaction.atomic
def form_assemble(
    *,
    blueprint: Blueprint,
    seed: int,
    name: str,
    by=None,
    exclude_versions: Iterable[int] | None = None,
    owner_program_id=AUTHORS_PROGRAM,
    anchor_versions: Iterable[int] | None = None,
) -> ExamForm:
    """Build a draft form from the bank's operational and pretest items.

    `exclude_versions` are versions the form should avoid (e.g. those of a candidate's
    previous forms); any version of the same items is avoided too, and they are used only
    where the bank has nothing else. `anchor_versions` are operational versions the form
    must hold (a block shared with other forms to link them; a case's item brings its
    whole case). Items that are enemies (Item.enemies) never share the form. Raises
    ValidationError naming each shortfall. The returned form carries what assembly did
    in `form.assembly_report` (an AssemblyReport; not stored).

    A program's form (`owner_program_id`, by default the program of `by`) draws on shared
    items and the program's own; a shared form (None, the operator's) on shared items
    only, so that it never carries a program's items to the others.
    """
    owner_program_id = owner_for(owner_program_id, by)
    if by is not None and not may_change(by, owner_program_id):
        raise PermissionDenied("Assemble forms for one of your programs.")
    counts = blueprint.domain_counts()
    error = blueprint_totals_error(
        total_items=blueprint.total_items,
        pretest_count=blueprint.pretest_count,
        domain_counts=counts.values(),
    )
    if error:
        raise ValidationError(error)
    if ExamForm.objects.filter(name=name).exists():
        raise ValidationError(f"A form named {name!r} already exists.")
    avoid_items = set(
        ItemVersion.objects.filter(pk__in=list(exclude_versions or [])).values_list(
            "item_id", flat=True
        )
    )
    pool = ItemVersion.objects.shared_or_of(owner_program_id)
    operational = _units(_bank_rows(pool.operational()), avoid_items)
    pretest = _units(_bank_rows(pool.pretest()), avoid_items)
    anchors = set(anchor_versions or [])
    required = [u for u in operational if anchors & set(u.version_ids)]
    missing = anchors - {v for u in required for v in u.version_ids}
    if missing:
        raise ValidationError(
            f"Anchor versions {sorted(missing)} are not operational items of the bank."
        )
    try:
        plan = plan_form_report(
            counts=counts,
            pretest_count=blueprint.pretest_count,
            operational=operational,
            pretest=pretest,
            seed=seed,
            enemies=active_enemies(),
            required=required,
        )
    except AssemblyError as exc:
        raise ValidationError(str(exc)) from exc
    named = {item_id for pair in plan.enemies_kept_apart for item_id in pair}
    item_keys = dict(Item.objects.filter(pk__in=named).values_list("pk", "key"))
    form = ExamForm.objects.create(
        name=name,
        kind=FormKind.EXAM,
        blueprint=blueprint,
        seed=seed,
        time_limit_minutes=blueprint.time_limit_minutes,
        warning_minutes=list(blueprint.warning_minutes),
        shuffle_items=blueprint.shuffle_items,
        shuffle_options=blueprint.shuffle_options,
        created_by=by,
        owner_program_id=owner_program_id,
    )
    FormItem.objects.bulk_create(
        FormItem(form=form, position=i, item_version_id=p.version_id, is_pretest=p.is_pretest)
        for i, p in enumerate(plan.items, start=1)
    )
    form.assembly_report = AssemblyReport(
        enemies_kept_apart=[(item_keys[a], item_keys[b]) for a, b in plan.enemies_kept_apart],
        anchors=sum(u.size for u in required),
    )
    log_event(
        "form.assembled",
        form_id=form.pk,
        items=len(plan.items),
        enemies_kept_apart=len(plan.enemies_kept_apart),
        anchors=form.assembly_report.anchors,
    )
    return form


def anchor_block_choose(*, form: ExamForm, count: int, seed: int) -> list[int]:
    """At least `count` operational versions of `form`, spread over the domains in the
    proportions of its blueprint (largest remainder), to be shared with other forms.

    Standalone items are taken first; where a domain's share needs more than the form's
    standalone items (a form may take most of a domain from scenario cases), whole cases
    fill it, since a case is never split across forms. The last case may overshoot the
    share, so the block can be a little larger than `count`.
    """
    blueprint_counts = form.blueprint.domain_counts() if form.blueprint_id else {}
    rows = list(
        form.items.filter(is_pretest=False)
        .order_by("position")
        .values_list("item_version_id", "item_version__domain__number", "item_version__case_id")
    )
    units: dict[object, list[tuple[int, int]]] = defaultdict(list)
    for version_id, domain, case_id in rows:
        units[case_id if case_id is not None else ("single", version_id)].append(
            (version_id, domain)
        )
    weights = blueprint_counts or dict(Counter(d for _, d, _ in rows))
    total = sum(weights.values())
    exact = {d: count * n / total for d, n in weights.items() if n > 0}
    share = {d: int(x) for d, x in exact.items()}
    for d in sorted(exact, key=lambda d: (share[d] - exact[d], d))[: count - sum(share.values())]:
        share[d] += 1
    rng = random.Random(seed)
    order = sorted(units, key=str)
    rng.shuffle(order)
    singles = [u for u in order if isinstance(u, tuple)]
    cases = sorted((u for u in order if not isinstance(u, tuple)), key=lambda u: len(units[u]))
    chosen: list[int] = []
    left = dict(share)

    def take(unit) -> None:
        for version_id, domain in units[unit]:
            chosen.append(version_id)
            left[domain] = left.get(domain, 0) - 1

    for unit in singles:
        if left.get(units[unit][0][1], 0) > 0:
            take(unit)
    for unit in cases:
        if any(left.get(d, 0) > 0 for _, d in units[unit]) and all(
            left.get(d, 0) >= n for d, n in Counter(d for _, d in units[unit]).items()
        ):
            take(unit)
    for unit in cases:  # a share still open: the smallest case that covers it
        if any(left.get(d, 0) > 0 for _, d in units[unit]) and units[unit][0][0] not in chosen:
            take(unit)
    short = {d: n for d, n in left.items() if n > 0}
    if short:
        detail = ", ".join(f"domain {d} short by {n}" for d, n in sorted(short.items()))
        raise ValidationError(f"{form} cannot give an anchor block of {count} items: {detail}.")
    return sorted(chosen)


def forms_assemble_linked(
    *,
    blueprint: Blueprint,
    names: Sequence[str],
    seed: int,
    anchor_count: int,
    by=None,
) -> list[ExamForm]:
    """Forms of one blueprint that share an anchor block of `anchor_count` operational
    items (spread by domain) and otherwise avoid each other's items where the bank allows:
    each form links to every other through the common block. Draft forms; publish them."""
    if len(names) < 2:
        raise ValidationError("Linked forms need at least two names.")
    first = form_assemble(blueprint=blueprint, seed=seed, name=names[0], by=by)
    anchors = anchor_block_choose(form=first, count=anchor_count, seed=seed)
    forms = [first]
    for offset, name in enumerate(names[1:], start=1):
        used = FormItem.objects.filter(form__in=forms).exclude(item_version_id__in=anchors)
        forms.append(
            form_assemble(
                blueprint=blueprint,
                seed=seed + offset,
                name=name,
                by=by,
                exclude_versions=list(used.values_list("item_version_id", flat=True)),
                anchor_versions=anchors,
            )
        )
    return forms


@transaction.atomic
def form_publish(*, form: ExamForm, by=None) -> ExamForm:
    """Freeze a form: lock its item versions and make it deliverable."""
    form = ExamForm.objects.select_for_update().get(pk=form.pk)
    if by is not None and not by.has_perm("exams.publish_examform"):
        raise PermissionDenied("You do not have permission to publish forms.")
    if by is not None and not may_change(by, form.owner_program_id):
        raise PermissionDenied("Only the staff of the form's program may publish it.")
    if form.kind != FormKind.EXAM:
        raise ValidationError("Practice sets are not published.")
    if form.is_published:
        raise ValidationError(f"{form} is already published.")
    version_ids = list(form.items.values_list("item_version_id", flat=True))
    if not version_ids:
        raise ValidationError(f"{form} has no items.")
    if form.blueprint_id and len(version_ids) != form.blueprint.total_items:
        raise ValidationError(
            f"{form} has {len(version_ids)} items; its blueprint asks for "
            f"{form.blueprint.total_items}."
        )
    item_versions_lock(version_ids=version_ids)
    # Scoring builds the form's conversion table here; a ValidationError saying what is
    # missing (ratings, calibrations) stops the publication.
    signals.form_publishing.send(sender=ExamForm, form=form, by=by)
    form.status = FormStatus.PUBLISHED
    form.published_at = timezone.now()
    with_actor(form, by, "Published")
    form.save(allow_publish=True)
    cache.delete(_rows_cache_key(form.pk))
    log_event(
        "form.published", form_id=form.pk, items=len(version_ids), by_id=getattr(by, "pk", None)
    )
    return form


@transaction.atomic
def form_set_availability(*, form: ExamForm, available_to_all: bool, by=None) -> ExamForm:
    if by is not None and not may_change(by, form.owner_program_id):
        raise PermissionDenied("Only the staff of the form's program may change who sits it.")
    form.available_to_all = available_to_all
    with_actor(form, by)
    form.save(update_fields=["available_to_all"])
    return form


# --- Starting an attempt ----------------------------------------------------------------
def _rows_cache_key(form_id: int) -> str:
    return f"exams:form-rows:v2:{form_id}"


def form_delivery_rows(*, form: ExamForm) -> Sequence[tuple[int, int | None, int, Sequence[int]]]:
    """(form_item_id, case_id, choose, option ids) in position order.

    A published form never changes, so its rows are read once: kept in the shared cache
    for the other workers and in this worker's memory (selectors.published_form_rows),
    where they are tuples, as every start shares them. When a cohort starts at once, each
    start then costs no read at all for them, only its one INSERT.
    """
    if form.is_published:
        return selectors.published_form_rows(form.pk, lambda: _shared_delivery_rows(form))
    return _read_delivery_rows(form)


def _shared_delivery_rows(form: ExamForm) -> list:
    key = _rows_cache_key(form.pk)
    rows = cache.get(key)
    if rows is None:
        rows = _read_delivery_rows(form)
        cache.set(key, rows, 60 * 60 * 24)
    return rows


def _read_delivery_rows(form: ExamForm) -> list:
    items = list(
        FormItem.objects.filter(form=form)
        .order_by("position")
        .values_list(
            "pk",
            "item_version_id",
            "item_version__case_id",
            "item_version__choose",
            "item_version__kind",
        )
    )
    options: dict[int, list[int]] = defaultdict(list)
    for version_id, option_id in (
        Option.objects.filter(version_id__in=[i[1] for i in items])
        .order_by("version_id", "position")
        .values_list("version_id", "pk")
    ):
        options[version_id].append(option_id)
    # A select-all-that-apply item does not say how many options are keys: the page may
    # take any number of options, and the layout (which the page sees) must not carry
    # the number of keys.
    return [
        (pk, case_id, len(options[vid]) if kind == ItemKind.SELECT_ALL else choose, options[vid])
        for pk, vid, case_id, choose, kind in items
    ]


# The start's one INSERT, built once per connection (common.rows): a cohort starts at once.
_attempt_insert = RowInserter(Attempt)


def _deadline(start: dt.datetime, minutes: float, multiplier: Decimal) -> dt.datetime:
    return start + dt.timedelta(seconds=float(Decimal(str(minutes)) * 60 * multiplier))


def _create_attempt(
    *,
    form: ExamForm,
    candidate,
    mode: str,
    minutes,
    now,
    multiplier: Decimal,
    program_id: int | None = None,
    practice=None,
    assigned_form: ExamForm | None = None,
):
    seed = secrets.randbits(48)
    layout = attempt_layout(
        rows=form_delivery_rows(form=form),
        seed=seed,
        shuffle_items=form.shuffle_items,
        shuffle_options=form.shuffle_options,
    )
    attempt = _attempt_insert.insert(
        Attempt(
            candidate=candidate,
            form=form,
            mode=mode,
            started_at=now,
            deadline=_deadline(now, minutes, multiplier) if minutes else None,
            time_multiplier=multiplier,
            program_id=program_id,
            seed=seed,
            layout=layout,
            practice_settings=practice or {},
            assigned_form=assigned_form,
        )
    )
    log_event(
        "attempt.started",
        attempt_id=attempt.pk,
        form_id=form.pk,
        **({"assigned_form_id": assigned_form.pk} if assigned_form is not None else {}),
        candidate_id=candidate.pk,
        mode=mode,
    )
    return attempt


def attempt_start(
    *,
    form: ExamForm | None = None,
    form_id: int | None = None,
    candidate,
    now: dt.datetime | None = None,
) -> Attempt:
    """Start an exam on a form (or its id), or resume the attempt already in progress on it.

    A retake (an earlier exam attempt on this assignment) is sat on a form the candidate
    has not seen when the bank allows (exams.retakes); the attempt keeps the assigned
    form's terms through `assigned_form`.

    A first attempt, what a cohort starting at once pays: one read (eligibility.start_check:
    the form, the attempt to resume, the terms) and one INSERT whose layout comes from the
    form's cached delivery rows. Raises PermissionDenied when the form does not exist for the
    candidate.
    """
    now = now or timezone.now()
    check = eligibility.start_check(
        user=candidate, form_id=form.pk if form is not None else form_id, now=now
    )
    if check.form is None:
        raise PermissionDenied("This exam is not available to you.")
    if check.resume_id is not None:
        return Attempt.objects.get(pk=check.resume_id)
    terms = check.terms
    if terms is None:
        raise PermissionDenied("This exam is not available to you.")
    refusal = terms.refusal(now)
    if refusal:
        raise AttemptRefused(refusal)

    def create(sit: ExamForm) -> Attempt:
        return _create_attempt(
            form=sit,
            candidate=candidate,
            mode=AttemptMode.EXAM,
            minutes=check.form.time_limit_minutes,
            now=now,
            # The accommodation of the program whose assignment the candidate sits
            # under, copied: a later change never alters this attempt.
            multiplier=terms.time_multiplier,
            program_id=terms.program_id,
            assigned_form=None if sit.pk == check.form.pk else check.form,
        )

    try:
        if terms.attempts_used == 0:
            if connection.in_atomic_block:
                with transaction.atomic():  # a savepoint, so that a conflict spoils nothing
                    return create(check.form)
            # A first attempt (the whole cohort's synchronized start): one INSERT in
            # autocommit, and a conflict leaves no transaction to roll back.
            return create(check.form)
        with transaction.atomic():
            # A retake may build and publish its own form first (exams.retakes).
            return create(retake_form(candidate=candidate, form=check.form))
    except IntegrityError:
        # Another request of the same candidate started it a moment ago: resume that one.
        started = (
            Attempt.objects.in_progress()
            .filter(Q(form_id=check.form.pk) | Q(assigned_form_id=check.form.pk))
            .filter(candidate=candidate)
            .first()
        )
        if started is None:
            raise
        return started


def retake_plan(*, candidate, form: ExamForm) -> retakes.RetakePlan:
    """What the candidate's next attempt on `form` will be sat on (exams.retakes)."""
    return retakes.retake_plan(candidate=candidate, form=form, enemies=active_enemies())


def retake_form(*, candidate, form: ExamForm) -> ExamForm:
    """The form a retake of `form` is sat on: a new form of none of the items the candidate
    has seen, built and published now; else an unseen published form; else `form` again.

    Building runs in a savepoint: a form that cannot be published (no conversion table)
    leaves nothing behind and the next choice is taken.
    """
    plan = retake_plan(candidate=candidate, form=form)
    if plan.kind != retakes.NEW:
        return plan.form
    seen = retakes.seen_by(candidate=candidate, form=form)
    try:
        with transaction.atomic():
            built = form_assemble(
                blueprint=form.blueprint,
                seed=plan.seed,
                name=f"{form.name} · retake form {secrets.token_hex(3).upper()}",
                exclude_versions=seen.version_ids,
                owner_program_id=form.owner_program_id,
            )
            on_form = set(built.items.values_list("item_version__item_id", flat=True))
            if on_form & seen.item_ids:
                raise ValidationError("the assembled form repeats an item the candidate saw")
            # The assigned form's delivery terms, not the blueprint's defaults.
            ExamForm.objects.filter(pk=built.pk).update(
                time_limit_minutes=form.time_limit_minutes,
                warning_minutes=list(form.warning_minutes),
                shuffle_items=form.shuffle_items,
                shuffle_options=form.shuffle_options,
                allow_review=form.allow_review,
                codebook_panel=form.codebook_panel,
                available_to_all=False,
                retake_of=form,
            )
            built = form_publish(form=built, by=None)
    except ValidationError as exc:
        log_event("retake.form_not_built", form_id=form.pk, reason=" ".join(exc.messages))
        other, _shared = retakes.unseen_form(form=form, seen=seen)
        return other or form
    log_event("retake.form_built", form_id=built.pk, assigned_form_id=form.pk)
    return built


@transaction.atomic
def practice_start(
    *,
    candidate,
    domains: Sequence[int],
    count: int,
    timed: bool,
    now: dt.datetime | None = None,
    seed: int | None = None,
    adaptive_mode: bool = False,
) -> Attempt:
    """A practice session on operational items of the chosen domains.

    Pretest items never appear in practice: practice shows keys and rationales. An
    adaptive session (exams.adaptive) starts with one item chosen for the candidate's
    ability and grows as they answer, up to `count` items or a standard error of 0.30.
    """
    now = now or timezone.now()
    if not domains:
        raise ValidationError("Choose at least one domain.")
    if not 1 <= count <= PRACTICE_MAX_ITEMS:
        raise ValidationError(f"Choose between 1 and {PRACTICE_MAX_ITEMS} items.")
    seed = secrets.randbits(48) if seed is None else seed
    if adaptive_mode:
        chosen, state = adaptive.first_items(candidate=candidate, domains=domains, seed=seed)
        return _practice_attempt(
            candidate=candidate,
            version_ids=chosen,
            minutes=max(1, round(count * PRACTICE_SECONDS_PER_ITEM / 60)),
            timed=timed,
            seed=seed,
            now=now,
            practice={**state, "domains": sorted(domains), "count": count, "timed": timed},
        )
    # Shared items and those of the candidate's own programs: another program's items are
    # not this candidate's to see.
    pool = list(
        ItemVersion.objects.operational()
        .usable_by(eligibility.candidate_program_ids(user=candidate))
        .filter(domain__number__in=list(domains))
        .order_by("pk")
        .values_list("pk", "case_id")
    )
    if not pool:
        raise ValidationError("The bank has no items in those domains yet.")
    rng = random.Random(seed)
    rng.shuffle(pool)
    # Keep a case's items next to each other so the documentation is read once.
    picked = sorted(pool[:count], key=lambda row: (row[1] is None, row[1] or 0, row[0]))
    return _practice_attempt(
        candidate=candidate,
        version_ids=[pk for pk, _ in picked],
        minutes=max(1, round(len(picked) * PRACTICE_SECONDS_PER_ITEM / 60)),
        timed=timed,
        seed=seed,
        now=now,
        practice={"domains": sorted(domains), "count": len(picked), "timed": timed},
    )


def _practice_attempt(*, candidate, version_ids, minutes, timed, seed, now, practice) -> Attempt:
    form = ExamForm.objects.create(
        name=f"Practice {candidate.pk}-{now:%Y%m%d%H%M%S}-{secrets.token_hex(3)}",
        kind=FormKind.PRACTICE,
        seed=seed,
        time_limit_minutes=minutes,
        warning_minutes=[],
        shuffle_items=False,
        shuffle_options=True,
        allow_review=True,
        created_by=candidate,
    )
    FormItem.objects.bulk_create(
        FormItem(form=form, position=i, item_version_id=pk) for i, pk in enumerate(version_ids, 1)
    )
    item_versions_lock(version_ids=list(version_ids))
    return _create_attempt(
        form=form,
        candidate=candidate,
        mode=AttemptMode.PRACTICE,
        minutes=form.time_limit_minutes if timed else None,
        now=now,
        multiplier=eligibility.own_time_multiplier(user=candidate),
        practice=practice,
    )


def attempt_set_position(*, attempt: Attempt, position: int) -> None:
    """Remember where the candidate is, so that resuming returns there."""
    if attempt.current_position != position:
        Attempt.objects.filter(pk=attempt.pk).update(current_position=position)
        attempt.current_position = position


# --- Saving answers (the hot path) -----------------------------------------------------
@dataclass(frozen=True)
class SaveResult:
    position: int
    answered: bool
    flagged: bool
    saved_at: dt.datetime


def _selection_ids(
    *, attempt: Attempt, position: int, choices: Sequence[str]
) -> tuple[int, list[int]]:
    """The item's form_item_id and the option ids picked, validated against the layout."""
    try:
        form_item_id, choose, option_ids = attempt.layout[position - 1]
    except (IndexError, TypeError, ValueError):
        raise SaveRefused(f"There is no item {position} on this exam.") from None
    if position < 1:
        raise SaveRefused(f"There is no item {position} on this exam.")
    picked: list[int] = []
    for choice in choices:
        try:
            index = int(choice)
        except (TypeError, ValueError):
            raise SaveRefused("That answer is not one of this item's options.") from None
        if not 0 <= index < len(option_ids):
            raise SaveRefused("That answer is not one of this item's options.")
        if option_ids[index] not in picked:
            picked.append(option_ids[index])
    if len(picked) > choose:
        raise SaveRefused(
            f"Choose {choose}: you picked {len(picked)}. Clear one before picking another."
            if choose > 1
            else "Choose one answer only."
        )
    return form_item_id, picked


_UPSERT = """
INSERT INTO exams_response (attempt_id, form_item_id, selection, flagged, saved_at)
SELECT %s, %s, {json}, %s, %s
WHERE EXISTS (
    SELECT 1 FROM exams_attempt
    WHERE id = %s AND candidate_id = %s AND state = 'in_progress'
      AND (deadline IS NULL OR deadline >= %s) {lock}
)
ON CONFLICT (attempt_id, form_item_id) DO UPDATE
SET selection = excluded.selection, flagged = excluded.flagged, saved_at = excluded.saved_at
WHERE exams_response.checked_at IS NULL
"""


@functools.cache
def _upsert_sql(vendor: str) -> str:
    if vendor == "postgresql":
        # FOR SHARE makes finalising (an UPDATE of the attempt) wait for a save already
        # under way, so scoring never misses an answer accepted inside the grace.
        return _UPSERT.format(json="%s::jsonb", lock="FOR SHARE")
    return _UPSERT.format(json="%s", lock="")


def response_save(
    *,
    attempt: Attempt,
    position: int,
    choices: Sequence[str],
    flagged: bool,
    now: dt.datetime | None = None,
) -> SaveResult:
    """Store the candidate's answer to the item at `position` (last write wins).

    `attempt` needs only id, candidate_id, state, deadline and layout loaded. The
    ownership, state and deadline checks are repeated inside the upsert's WHERE, so the
    whole save is one statement and cannot race with finalising.
    """
    now = now or timezone.now()
    if not attempt.accepts_writes(now, grace_seconds=save_grace_seconds()):
        _refuse_closed(attempt=attempt, now=now)
    form_item_id, selection = _selection_ids(attempt=attempt, position=position, choices=choices)
    adapt = connection.ops.adapt_datetimefield_value
    cutoff = now - dt.timedelta(seconds=save_grace_seconds())
    with connection.cursor() as cursor:
        cursor.execute(
            _upsert_sql(connection.vendor),
            [
                attempt.pk,
                form_item_id,
                json.dumps(selection),
                bool(flagged),
                adapt(now),
                attempt.pk,
                attempt.candidate_id,
                adapt(cutoff),
            ],
        )
        stored = cursor.rowcount
    if stored != 1:
        fresh = Attempt.objects.only("id", "state", "deadline").get(pk=attempt.pk)
        if not fresh.accepts_writes(now, grace_seconds=save_grace_seconds()):
            _refuse_closed(attempt=fresh, now=now)
        raise SaveRefused("You have already checked this answer; it can no longer change.")
    return SaveResult(position=position, answered=bool(selection), flagged=flagged, saved_at=now)


def _refuse_closed(*, attempt: Attempt, now: dt.datetime):
    if attempt.state == AttemptState.IN_PROGRESS:
        attempt_finalise(attempt_id=attempt.pk, state=AttemptState.EXPIRED, now=now)
        raise AttemptClosed(
            "Time is up: the exam ended at its deadline and has been submitted. "
            "Answers saved before then are kept.",
            attempt_id=attempt.pk,
        )
    raise AttemptClosed(
        "This exam has already been submitted; answers can no longer change.",
        attempt_id=attempt.pk,
    )


@transaction.atomic
def response_check(*, attempt: Attempt, position: int, now: dt.datetime | None = None) -> Response:
    """Practice: reveal the key and rationale of an item; its answer is final from now."""
    if attempt.mode != AttemptMode.PRACTICE:
        raise PermissionDenied("Keys are shown only in practice.")
    now = now or timezone.now()
    if not attempt.accepts_writes(now, grace_seconds=save_grace_seconds()):
        _refuse_closed(attempt=attempt, now=now)
    try:
        form_item_id = attempt.layout[position - 1][0]
    except IndexError:
        raise SaveRefused(f"There is no item {position} in this practice set.") from None
    response, _ = Response.objects.get_or_create(
        attempt=attempt, form_item_id=form_item_id, defaults={"saved_at": now}
    )
    if response.checked_at is None:
        response.checked_at = now
        response.save(update_fields=["checked_at"])
    return response


# --- Finishing ------------------------------------------------------------------------
def attempt_finalise(*, attempt_id: int, state: str, now: dt.datetime | None = None) -> bool:
    """Close an in-progress attempt and announce it (scoring listens); False if it was
    already closed.

    A conditional UPDATE rather than a lock: of two workers (or a worker and the
    candidate's own submit) exactly one changes the row, and only that one announces it.
    """
    if state not in (AttemptState.SUBMITTED, AttemptState.EXPIRED):
        raise ValueError(f"cannot finalise into {state!r}")
    now = now or timezone.now()
    changed = Attempt.objects.filter(pk=attempt_id, state=AttemptState.IN_PROGRESS).update(
        state=state, submitted_at=now
    )
    if changed:
        log_event("attempt.finalised", attempt_id=attempt_id, state=state)
        signals.attempt_finalised.send(sender=Attempt, attempt_id=attempt_id, state=state)
    return bool(changed)


def attempt_submit(*, attempt: Attempt, now: dt.datetime | None = None) -> Attempt:
    """The candidate submits. After the deadline (and grace) it counts as expired."""
    now = now or timezone.now()
    in_time = attempt.within_deadline(now, grace_seconds=save_grace_seconds())
    with transaction.atomic():
        attempt_finalise(
            attempt_id=attempt.pk,
            state=AttemptState.SUBMITTED if in_time else AttemptState.EXPIRED,
            now=now,
        )
    attempt.refresh_from_db(fields=["state", "submitted_at"])
    return attempt


def attempt_time_up(*, attempt: Attempt, now: dt.datetime | None = None) -> bool:
    """The page's clock reached zero: finalise if the server agrees the time is over."""
    now = now or timezone.now()
    if attempt.deadline is None or now < attempt.deadline:
        return attempt.state != AttemptState.IN_PROGRESS
    with transaction.atomic():
        attempt_finalise(attempt_id=attempt.pk, state=AttemptState.EXPIRED, now=now)
    return True


# Attempts the expiry sweep closes per transaction, and how long one sweep may go on
# (beat sends the next one a minute later).
EXPIRE_BATCH = 500
EXPIRE_BUDGET_SECONDS = 50.0


def attempts_expire_overdue(
    *, now: dt.datetime | None = None, batch: int | None = None, budget: float | None = None
) -> int:
    """Finalise attempts whose deadline and grace have passed; returns how many this call did.

    In batches: each batch's rows are claimed with SELECT ... FOR UPDATE SKIP LOCKED and
    closed by one UPDATE, so a whole cohort that walked away is closed in seconds, and two
    workers sweeping at once share the work instead of waiting for each other. Each closed
    attempt is announced as attempt_finalise announces one.
    """
    now = now or timezone.now()
    batch = batch or EXPIRE_BATCH
    stop_at = time.monotonic() + (EXPIRE_BUDGET_SECONDS if budget is None else budget)
    overdue = Attempt.objects.in_progress().past_deadline(now, grace_seconds=save_grace_seconds())
    done = 0
    while True:
        with transaction.atomic():
            claimed = list(
                overdue.select_for_update(skip_locked=True)
                .order_by("deadline")
                .values_list("pk", flat=True)[:batch]
            )
            if not claimed:
                break
            closed = Attempt.objects.filter(pk__in=claimed, state=AttemptState.IN_PROGRESS).update(
                state=AttemptState.EXPIRED, submitted_at=now
            )
            for attempt_id in claimed:
                signals.attempt_finalised.send(
                    sender=Attempt, attempt_id=attempt_id, state=AttemptState.EXPIRED
                )
        done += closed
        if len(claimed) < batch or time.monotonic() >= stop_at:
            break
    if done:
        log_event("attempts.expired", count=done)
    return done
