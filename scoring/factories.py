"""Builders of scoring test data (used by tests of every app and by the benchmark).

Forms are built the way instructors build them: bank items, a blueprint, an assembled
draft, Angoff ratings on its operational items, the conversion table, then publication.
Attempts are created directly on the exams models and finished without queuing a task,
so each test decides when scoring runs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence

from django.contrib.auth import get_user_model
from django.utils import timezone

from exams import services as exams_services
from exams.factories import blueprint_with, stock_bank
from exams.models import Attempt, AttemptMode, AttemptState, ExamForm, FormItem, Response
from questionbank.models import AngoffRating, ItemVersion, Option
from scoring import services
from scoring.models import ItemCalibration


def judges(count: int, *, prefix: str = "judge") -> list:
    user_model = get_user_model()
    return [
        user_model.objects.get_or_create(username=f"{prefix}-{i}")[0] for i in range(1, count + 1)
    ]


def rate(
    versions: Iterable[ItemVersion | int], *, rating: float | Sequence[float] = 0.6, judges_=None
):
    """Angoff ratings: every judge gives every version `rating` (or the i-th judge rating[i])."""
    panel = judges_ if judges_ is not None else judges(2)
    values = [rating] * len(panel) if isinstance(rating, int | float) else list(rating)
    AngoffRating.objects.bulk_create(
        (
            AngoffRating(item_version_id=getattr(v, "pk", v), judge=judge, rating=str(value))
            for v in versions
            for judge, value in zip(panel, values, strict=True)
        ),
        # A form may reuse items that another form's panel already rated.
        update_conflicts=True,
        unique_fields=["item_version", "judge"],
        update_fields=["rating"],
    )


def calibrate(versions: Iterable[ItemVersion | int], difficulties: Iterable[float]) -> None:
    """Rasch difficulties on the bank scale, as item analysis will store them."""
    now = timezone.now()
    ItemCalibration.objects.bulk_create(
        ItemCalibration(
            item_version_id=getattr(v, "pk", v),
            difficulty=float(b),
            se=0.1,
            n_responses=500,
            method="cml",
            calibrated_at=now,
        )
        for v, b in zip(versions, difficulties, strict=True)
    )


def operational_versions(form: ExamForm) -> list[int]:
    return list(
        form.items.filter(is_pretest=False)
        .order_by("position")
        .values_list("item_version_id", flat=True)
    )


def draft_form(
    counts: dict[int, int],
    *,
    pretest: int = 0,
    seed: int = 1,
    name: str | None = None,
    blueprint=None,
    stock: bool = True,
    exclude_versions: Iterable[int] = (),
) -> ExamForm:
    """An assembled, unpublished form (with bank items made for it when `stock`)."""
    if stock:
        stock_bank(counts, pretest)
    blueprint = blueprint or blueprint_with(counts, pretest=pretest)
    return exams_services.form_assemble(
        blueprint=blueprint,
        seed=seed,
        name=name or f"Form {blueprint.name}-{seed}",
        exclude_versions=list(exclude_versions),
    )


def publish(form: ExamForm, *, allow_review: bool = False) -> ExamForm:
    """Build the table (the publish hook builds it again once wired: same result) and publish."""
    if allow_review != form.allow_review:
        ExamForm.objects.filter(pk=form.pk).update(allow_review=allow_review)
        form.refresh_from_db()
    services.form_conversion_build(form=form)
    form = exams_services.form_publish(form=form)
    return exams_services.form_set_availability(form=form, available_to_all=True)


def scored_form(
    counts: dict[int, int],
    *,
    pretest: int = 0,
    rating: float | Sequence[float] = 0.6,
    panel: int = 2,
    allow_review: bool = False,
    **kwargs,
) -> ExamForm:
    """A published exam form with an Angoff cut (every judge rates every item `rating`)."""
    form = draft_form(counts, pretest=pretest, **kwargs)
    rate(operational_versions(form), rating=rating, judges_=judges(panel))
    return publish(form, allow_review=allow_review)


def _options(version_ids: Iterable[int]) -> dict[int, tuple[list[int], list[int]]]:
    """Per version: (key option ids, other option ids)."""
    found: dict[int, tuple[list[int], list[int]]] = {}
    for version_id, pk, is_key in Option.objects.filter(
        version_id__in=list(version_ids)
    ).values_list("version_id", "pk", "is_key"):
        keys, others = found.setdefault(version_id, ([], []))
        (keys if is_key else others).append(pk)
    return found


Answer = Callable[[FormItem], bool | None]


def finished_attempt(
    form: ExamForm,
    candidate,
    *,
    correct: Answer | bool | None = True,
    mode: str = AttemptMode.EXAM,
    state: str = AttemptState.SUBMITTED,
    started_at: dt.datetime | None = None,
    minutes_used: float = 90,
) -> Attempt:
    """A finished attempt: each item answered right (True), wrong (False) or not (None).

    `correct` is one of those for every item, or a function of the form item.
    """
    started_at = started_at or timezone.now() - dt.timedelta(minutes=minutes_used)
    layout = exams_services.form_delivery_rows(form=form)
    attempt = Attempt.objects.create(
        candidate=candidate,
        form=form,
        mode=mode,
        started_at=started_at,
        deadline=started_at + dt.timedelta(minutes=form.time_limit_minutes),
        seed=1,
        layout=[[pk, choose, options] for pk, _case, choose, options in layout],
    )
    items = list(form.items.order_by("position"))
    options = _options(fi.item_version_id for fi in items)
    saved_at = started_at + dt.timedelta(minutes=minutes_used)
    responses = []
    for fi in items:
        right = correct(fi) if callable(correct) else correct
        if right is None:
            continue
        keys, others = options[fi.item_version_id]
        responses.append(
            Response(
                attempt=attempt,
                form_item=fi,
                selection=keys if right else others[:1],
                saved_at=saved_at,
            )
        )
    Response.objects.bulk_create(responses)
    Attempt.objects.filter(pk=attempt.pk).update(state=state, submitted_at=saved_at)
    attempt.refresh_from_db()
    return attempt
