"""Reads for scoring: the score report, the candidate's history, results for reports, and
the calibrated difficulties and base forms that equating and item analysis read.

Practice attempts are scored for the candidate's own feedback but are never exam results:
every selector here that lists results keeps to exam attempts on exam forms.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
from django.conf import settings

from exams.eligibility import attempt_review_allowed
from exams.models import Attempt, AttemptMode, ExamForm, FormItem, FormKind
from exams.selectors import attempt_answer_review
from psychometrics.precision import probability_of_passing
from psychometrics.rasch import theta_for_expected_score
from psychometrics.results import BAND_MARGIN
from questionbank.models import AngoffRating, Domain
from scoring.models import (
    AttemptResult,
    BaseForm,
    ItemCalibration,
    ResultHistory,
    ScaleConversion,
)


def exam_attempts():
    """Finished attempts that are exam results: exam mode on an exam form."""
    return Attempt.objects.exams().finished().filter(form__kind=FormKind.EXAM)


def exam_results():
    """Stored results of exam attempts only (for dashboards and exports)."""
    return AttemptResult.objects.filter(
        attempt__mode=AttemptMode.EXAM, attempt__form__kind=FormKind.EXAM
    )


def attempt_result(*, attempt: Attempt) -> AttemptResult | None:
    return AttemptResult.objects.filter(attempt=attempt).first()


def operational_items(form: ExamForm) -> list[tuple[int, str]]:
    """(item version id, item key) of the form's operational items, in position order."""
    return list(
        FormItem.objects.filter(form=form, is_pretest=False)
        .order_by("position")
        .values_list("item_version_id", "item_version__item__key")
    )


def calibrated_difficulties(version_ids) -> dict[int, float]:
    """Item version id → Rasch difficulty on the bank scale, for those calibrated."""
    return dict(
        ItemCalibration.objects.filter(item_version_id__in=version_ids).values_list(
            "item_version_id", "difficulty"
        )
    )


def blueprint_base_form(blueprint_id: int | None) -> ExamForm | None:
    """The form every other form of the blueprint is equated to (None: not chosen yet)."""
    base = BaseForm.objects.select_related("form").filter(blueprint_id=blueprint_id).first()
    return None if base is None else base.form


def angoff_panel_size(*, program_owned: bool) -> int:
    """The fewest judges whose Angoff ratings may set a form's cut: a program's own form
    needs a panel, so that no one person sets its cut; the operator's shared forms carry
    the bank's panel as imported."""
    return settings.CCS_MIN_ANGOFF_JUDGES if program_owned else 1


class RetakeScaleCheck:
    """Answers exams.retakes (registered in ScoringConfig.ready): could a retake form of
    these operational versions get a conversion table when it is published? The same two
    ways scoring.services.form_conversion_build has: equating to the blueprint's base form
    (every item here and there calibrated) or the items' own Angoff ratings."""

    def obstacle(
        self, *, blueprint_id: int, version_ids: list[int], program_owned: bool = False
    ) -> str | None:
        if not version_ids:
            return "it has no operational items"
        calibrated = calibrated_difficulties(version_ids)
        base = blueprint_base_form(blueprint_id)
        if len(calibrated) == len(version_ids) and base is not None:
            base_versions = [v for v, _ in operational_items(base)]
            if ScaleConversion.objects.filter(form_id=base.pk).exists() and len(
                calibrated_difficulties(base_versions)
            ) == len(base_versions):
                return None
        ratings = AngoffRating.objects.filter(item_version_id__in=version_ids)
        rated = set(ratings.values_list("item_version_id", flat=True).distinct())
        if len(rated) == len(version_ids):
            wanted = angoff_panel_size(program_owned=program_owned)
            panel = ratings.values("judge_id").distinct().count()
            if panel >= wanted:
                return None
            return (
                f"its items' Angoff ratings come from {panel} judge"
                f"{'' if panel == 1 else 's'}; a program's form needs a panel of {wanted}"
            )
        missing = len(version_ids) - len(rated)
        return (
            f"{missing} of its {len(version_ids)} scored items have neither a calibrated "
            "difficulty to equate with nor an Angoff rating"
        )


@dataclass(frozen=True)
class DomainRow:
    number: int
    name: str
    score: float
    items: int
    percent: float
    expected: float | None
    expected_from: str | None
    band: str | None


@dataclass(frozen=True)
class Report:
    attempt: Attempt
    result: AttemptResult | None  # None until scoring has run
    is_practice: bool
    domains: list[DomainRow]
    time_used: dt.timedelta | None
    time_allowed: dt.timedelta | None
    review_items: list | None  # None when the form does not allow review
    margin: float = BAND_MARGIN
    # Earlier results of this attempt that a rescoring replaced, oldest first.
    earlier: tuple[ResultHistory, ...] = ()

    @property
    def changed(self) -> ResultHistory | None:
        """The result shown before the current one, when a rescoring replaced it."""
        return self.earlier[-1] if self.earlier else None

    @property
    def time_used_text(self) -> str:
        return duration_text(self.time_used)

    @property
    def time_allowed_text(self) -> str:
        return duration_text(self.time_allowed)

    @property
    def percent_correct(self) -> float | None:
        if self.result is None or not self.result.max_raw:
            return None
        return 100.0 * self.result.raw_score / self.result.max_raw

    @property
    def pass_probability_text(self) -> str:
        """Whole percents; the ends are shown as bounds, never as a certainty."""
        if self.result is None or self.result.pass_probability is None:
            return ""
        p = 100.0 * self.result.pass_probability
        if p > 99:
            return "over 99%"
        if p < 1:
            return "under 1%"
        return f"{p:.0f}%"

    @property
    def has_range(self) -> bool:
        return self.result is not None and self.result.scaled_low is not None


def duration_text(value: dt.timedelta | None) -> str:
    """3 h 05 min, 12 min, 40 s."""
    if value is None:
        return ""
    seconds = int(value.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min"
    return f"{secs} s"


def _time_used(attempt: Attempt) -> dt.timedelta | None:
    if attempt.submitted_at is None:
        return None
    end = attempt.submitted_at
    if attempt.deadline is not None:
        # An expired attempt may be finalised by the sweep well after its deadline; the
        # candidate could not have used more than the time allowed.
        end = min(end, attempt.deadline)
    return max(end - attempt.started_at, dt.timedelta(0))


def domain_rows(*, result: AttemptResult) -> list[DomainRow]:
    names = dict(Domain.objects.values_list("number", "name"))
    rows = []
    for key, value in sorted(result.domain_results.items(), key=lambda kv: int(kv[0])):
        number = int(key)
        rows.append(
            DomainRow(
                number=number,
                name=names.get(number, f"Domain {number}"),
                score=value["score"],
                items=value["items"],
                percent=value["percent"],
                expected=value.get("expected"),
                expected_from=value.get("expected_from"),
                band=value.get("band"),
            )
        )
    return rows


def attempt_report(*, attempt: Attempt) -> Report:
    """Everything the score report shows for one finished attempt."""
    result = attempt_result(attempt=attempt)
    is_practice = attempt.mode == AttemptMode.PRACTICE or attempt.form.kind == FormKind.PRACTICE
    review = None
    if is_practice or attempt_review_allowed(attempt=attempt):
        review = attempt_answer_review(attempt=attempt)
    margin = BAND_MARGIN
    if result is not None and result.domain_results:
        margin = next(iter(result.domain_results.values())).get("margin", BAND_MARGIN)
    return Report(
        attempt=attempt,
        result=result,
        is_practice=is_practice,
        domains=[] if result is None else domain_rows(result=result),
        time_used=_time_used(attempt),
        time_allowed=None if attempt.deadline is None else attempt.deadline - attempt.started_at,
        review_items=review,
        margin=margin,
        earlier=tuple(result_history(attempt=attempt)) if result is not None else (),
    )


def result_history(*, attempt: Attempt) -> list[ResultHistory]:
    """The attempt's superseded results, oldest first, with who replaced them and why."""
    return list(ResultHistory.objects.filter(attempt=attempt).order_by("version"))


@dataclass(frozen=True)
class HistoryRow:
    attempt: Attempt
    result: AttemptResult | None

    @property
    def when(self) -> dt.datetime:
        return self.attempt.submitted_at or self.attempt.started_at


def exam_history(*, user) -> list[HistoryRow]:
    """The user's finished exam attempts, oldest first; practice sessions never appear."""
    attempts = (
        exam_attempts()
        .of(user)
        .select_related("form", "score")
        .order_by("submitted_at", "started_at", "pk")
    )
    return [HistoryRow(a, getattr(a, "score", None)) for a in attempts]


# --- Readiness: the chance of passing a new form ----------------------------------------------
@dataclass(frozen=True)
class PassChance:
    """A candidate's probability of passing a new form of the blueprint, from their latest
    ability estimate and its standard error."""

    probability: float
    theta: float
    theta_se: float
    theta_standard: float  # the ability at the base form's cut: the standard
    form_name: str  # the form the ability was estimated on
    when: dt.datetime


def standard_ability(*, blueprint_id: int | None) -> float | None:
    """The ability that just reaches the blueprint's standard (its base form's cut), on
    the bank scale; None without a base form whose operational items are all calibrated."""
    base = blueprint_base_form(blueprint_id)
    if base is None:
        return None
    cut = ScaleConversion.objects.filter(form=base).values_list("cut", flat=True).first()
    items = operational_items(base)
    b = calibrated_difficulties([v for v, _ in items])
    if cut is None or not items or len(b) < len(items):
        return None
    return float(theta_for_expected_score(cut, np.array([b[v] for v, _ in items])))


def pass_chances(*, candidate_ids) -> dict[int, PassChance]:
    """Per candidate, P(true ability >= the standard) from their latest exam result with an
    ability estimate (psychometrics.precision.probability_of_passing): every form of a
    blueprint is equated to the same standard, so this is their chance on a form they have
    not seen, as far as their ability decides it. Candidates without such a result (no
    exam yet, or only forms whose items are not calibrated) are left out."""
    rows = (
        exam_results()
        .filter(
            attempt__candidate_id__in=list(candidate_ids),
            theta__isnull=False,
            theta_se__isnull=False,
        )
        .order_by("attempt__candidate_id", "-attempt__started_at", "-attempt_id")
        .values_list(
            "attempt__candidate_id",
            "theta",
            "theta_se",
            "attempt__form__blueprint_id",
            "attempt__form__name",
            "attempt__started_at",
        )
    )
    standards: dict[int | None, float | None] = {}
    chances: dict[int, PassChance] = {}
    for candidate_id, theta, se, blueprint_id, form_name, started in rows:
        if candidate_id in chances or not (math.isfinite(theta) and math.isfinite(se)):
            continue
        if blueprint_id not in standards:
            standards[blueprint_id] = standard_ability(blueprint_id=blueprint_id)
        standard = standards[blueprint_id]
        if standard is None:
            continue
        chances[candidate_id] = PassChance(
            probability=float(probability_of_passing(theta, se, standard)),
            theta=theta,
            theta_se=se,
            theta_standard=standard,
            form_name=form_name,
            when=started,
        )
    return chances
