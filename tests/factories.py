"""Builders of test data for every app's tests and for the benchmarks.

Bank items and cases (factory_boy), blueprints and published forms built the way
instructors build them (bank items, a blueprint, an assembled draft, Angoff ratings on its
operational items, the conversion table, then publication), and attempts created directly
on the exams models and finished without queuing a task, so each test decides when
scoring runs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from exams import services as exams_services
from exams.models import (
    Attempt,
    AttemptMode,
    AttemptState,
    Blueprint,
    BlueprintDomain,
    ExamForm,
    FormItem,
    Response,
)
from questionbank.models import AngoffRating, Case, Domain, Item, ItemStatus, ItemVersion, Option
from scoring import services as scoring_services
from scoring.models import ItemCalibration


# --- The bank ---------------------------------------------------------------------------
class CaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Case

    key = factory.Sequence(lambda n: f"CASE-{n:03d}")
    title = factory.Sequence(lambda n: f"Case {n}")
    setting = "inpatient"
    code_set_year = 2026
    sections = factory.LazyFunction(
        lambda: [
            {"heading": "History and physical", "body": "A 70-year-old woman with dyspnea."},
            {"heading": "Discharge summary", "body": "Acute on chronic diastolic heart failure."},
        ]
    )


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Item

    key = factory.Sequence(lambda n: f"T-{n:05d}")


class ItemVersionFactory(factory.django.DjangoModelFactory):
    """A valid multiple-choice version with four options, option B keyed."""

    class Meta:
        model = ItemVersion
        skip_postgeneration_save = True

    item = factory.SubFactory(ItemFactory)
    number = 1
    domain = factory.LazyFunction(lambda: Domain.objects.get(number=1))
    kind = "single"
    choose = 1
    stem = factory.Sequence(lambda n: f"Question {n}: which code is assigned?")
    rationale = "Because the guideline says so (Section I.A)."
    references = "ICD-10-CM Official Guidelines FY2026"
    code_set_year = 2026
    status = ItemStatus.OPERATIONAL

    @factory.post_generation
    def authors_program(self, create, extracted, **kwargs):
        """An item written by a program's staff belongs to that program, as when they author
        it in the admin (questionbank.services.item_create); without an author it is shared
        content, like the sample bank."""
        from tenancy.scoping import default_program_id

        if create and self.author_id and self.item.owner_program_id is None:
            owner = default_program_id(self.author)
            if owner is not None:
                Item.objects.filter(pk=self.item_id).update(owner_program_id=owner)
                self.item.owner_program_id = owner

    @factory.post_generation
    def options(self, create, extracted, **kwargs):
        if not create:
            return
        specs = extracted or [
            ("Option A", False),
            ("Option B", True),
            ("Option C", False),
            ("Option D", False),
        ]
        Option.objects.bulk_create(
            Option(version=self, position=i, text=text, is_key=key)
            for i, (text, key) in enumerate(specs)
        )


# --- Blueprints and forms ---------------------------------------------------------------
def _program_id(slug: str | None) -> int | None:
    if slug is None:
        return None
    from tests.conftest import program

    return program(slug).pk


class BlueprintFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Blueprint

    name = factory.Sequence(lambda n: f"BP-{n}")
    total_items = 4
    pretest_count = 1
    time_limit_minutes = 60
    warning_minutes = factory.LazyFunction(lambda: [30, 5])
    shuffle_items = False
    shuffle_options = False


def blueprint_with(
    counts: dict[int, int], *, pretest: int = 0, minutes: int = 60, **fields
) -> Blueprint:
    """A blueprint asking for `counts` scored items per domain number."""
    blueprint = BlueprintFactory(
        total_items=sum(counts.values()) + pretest,
        pretest_count=pretest,
        time_limit_minutes=minutes,
        **fields,
    )
    for number, count in counts.items():
        BlueprintDomain.objects.create(
            blueprint=blueprint, domain=Domain.objects.get(number=number), scored_items=count
        )
    return blueprint


def bank_items(domain: int, count: int, *, status=ItemStatus.OPERATIONAL, case=None, **fields):
    return [
        ItemVersionFactory(
            domain=Domain.objects.get(number=domain), status=status, case=case, **fields
        )
        for _ in range(count)
    ]


def stock_bank(counts: dict[int, int], pretest: int = 0) -> None:
    """Operational bank items, `counts` per domain number, and `pretest` pretest items."""
    for number, count in counts.items():
        bank_items(number, count)
    if pretest:
        bank_items(1, pretest, status=ItemStatus.PRETEST)


def bank_case(domains: list[int], *, status=ItemStatus.OPERATIONAL):
    """A scenario case with one item per entry of `domains`."""
    case = CaseFactory()
    versions = []
    for number in domains:
        versions += bank_items(number, 1, status=status, case=case)
    return case, versions


def published_form(
    counts: dict[int, int],
    *,
    pretest: int = 0,
    minutes: int = 60,
    seed: int = 1,
    name: str | None = None,
    available_to_all: bool = True,
    stock: bool = True,
    **blueprint_fields,
) -> ExamForm:
    """Bank items (when `stock`), a blueprint and a published form that uses them."""
    if stock:
        stock_bank(counts, pretest)
    blueprint = blueprint_with(counts, pretest=pretest, minutes=minutes, **blueprint_fields)
    form = exams_services.form_assemble(
        blueprint=blueprint, seed=seed, name=name or f"Form {blueprint.name}", by=None
    )
    # Publishing builds the conversion table, which needs a cut: a panel of two judges.
    rate(operational_versions(form), rating=0.6, judges_=judges(2, prefix="factory-judge"))
    form = exams_services.form_publish(form=form, by=None)
    if available_to_all:
        form = exams_services.form_set_availability(form=form, available_to_all=True)
    return form


# --- Ratings, calibrations and scored attempts --------------------------------------------
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
    program: str | None = None,
) -> ExamForm:
    """An assembled, unpublished form (with bank items made for it when `stock`): shared,
    or program `program`'s own (a slug of tests.conftest.program)."""
    if stock:
        stock_bank(counts, pretest)
    blueprint = blueprint or blueprint_with(counts, pretest=pretest)
    return exams_services.form_assemble(
        blueprint=blueprint,
        seed=seed,
        name=name or f"Form {blueprint.name}-{seed}",
        exclude_versions=list(exclude_versions),
        owner_program_id=_program_id(program),
    )


def publish(form: ExamForm, *, allow_review: bool = False) -> ExamForm:
    """Build the table (the publish hook builds it again once wired: same result) and publish."""
    if allow_review != form.allow_review:
        ExamForm.objects.filter(pk=form.pk).update(allow_review=allow_review)
        form.refresh_from_db()
    scoring_services.form_conversion_build(form=form)
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
    program: str | None = None,
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
        # Sat under program `program`'s assignment (None: outside any program).
        program_id=_program_id(program),
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


def form_of(
    versions: Sequence[ItemVersion | int],
    *,
    name: str,
    blueprint: Blueprint | None = None,
    pretest: Sequence[ItemVersion | int] = (),
    rating: float = 0.6,
) -> ExamForm:
    """A published exam form of exactly these item versions in this order (then `pretest`),
    rated `rating` by one judge: the way to build forms that share an anchor block."""
    ids = [getattr(v, "pk", v) for v in versions]
    pretest_ids = [getattr(v, "pk", v) for v in pretest]
    form = ExamForm.objects.create(
        name=name,
        blueprint=blueprint,
        time_limit_minutes=60,
        shuffle_items=False,
        shuffle_options=False,
    )
    FormItem.objects.bulk_create(
        FormItem(form=form, position=i, item_version_id=v, is_pretest=v in pretest_ids)
        for i, v in enumerate(ids + pretest_ids, start=1)
    )
    rate(ids, rating=rating, judges_=judges(2, prefix="form-judge"))
    return publish(form)


def rasch_attempts(
    form: ExamForm,
    *,
    difficulties: dict[int, float],
    abilities: Sequence[float],
    rng,
    prefix: str | None = None,
) -> list[Attempt]:
    """Finished exam attempts whose answers follow the Rasch model: candidate i answers
    item version v right with probability logistic(abilities[i] - difficulties[v])."""
    import numpy as np

    user_model = get_user_model()
    prefix = prefix or f"rasch-{form.pk}"
    users = user_model.objects.bulk_create(
        user_model(username=f"{prefix}-{i}") for i in range(len(abilities))
    )
    items = list(form.items.order_by("position").values_list("pk", "item_version_id"))
    options = _options(v for _, v in items)
    b = np.array([difficulties[v] for _, v in items])
    theta = np.asarray(abilities, dtype=float)
    right = rng.random((len(theta), len(b))) < 1 / (1 + np.exp(-(theta[:, None] - b)))
    now = timezone.now()
    attempts = Attempt.objects.bulk_create(
        Attempt(
            candidate=user,
            form=form,
            mode=AttemptMode.EXAM,
            state=AttemptState.SUBMITTED,
            started_at=now - dt.timedelta(hours=2),
            deadline=now + dt.timedelta(hours=1),
            submitted_at=now - dt.timedelta(hours=1),
            seed=1,
            layout=[],
        )
        for user in users
    )
    Response.objects.bulk_create(
        (
            Response(
                attempt=attempt,
                form_item_id=form_item_id,
                selection=options[v][0] if right[i, j] else options[v][1][:1],
                saved_at=now,
            )
            for i, attempt in enumerate(attempts)
            for j, (form_item_id, v) in enumerate(items)
        ),
        batch_size=5000,
    )
    return attempts
