"""Writes for scoring: conversion tables of forms, base forms, and attempt scores.

A thin layer over the pure core (psychometrics: scale, rasch, results): it reads
the rows the computation needs, calls it, and stores what it returns with how and when.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

import numpy as np
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Avg, F, Q
from django.utils import timezone

from common.errors import ApplicationError
from common.lifecycle import log_event, timed_event
from exams.models import (
    Attempt,
    AttemptMode,
    AttemptState,
    Blueprint,
    ExamForm,
    FormItem,
    FormKind,
    Response,
)
from psychometrics import results
from psychometrics.rasch import equated_conversion, expected_score, theta_for_expected_score
from psychometrics.scale import angoff_cut, conversion_table, raw_passing_score
from questionbank.models import AngoffRating, Option
from scoring import signals, tasks
from scoring.models import (
    AttemptResult,
    BaseForm,
    ConversionMethod,
    ConversionVersion,
    DomainScore,
    ItemCalibration,
    ResultHistory,
    ScaleConversion,
)
from scoring.selectors import (
    angoff_panel_size,
    blueprint_base_form,
    calibrated_difficulties,
    operational_items,
)
from tenancy.audit import with_actor
from tenancy.scoping import is_operator, may_change

logger = logging.getLogger(__name__)

# How many item keys an error message lists before saying "and N more".
_LIST_AT_MOST = 10


def _keys_list(keys: list[str]) -> str:
    shown = ", ".join(keys[:_LIST_AT_MOST])
    if len(keys) > _LIST_AT_MOST:
        shown += f", … and {len(keys) - _LIST_AT_MOST} more"
    return shown


def _items(n: int) -> str:
    return f"{n} operational item{'' if n == 1 else 's'}"


# --- How a table is derived ----------------------------------------------------------------
def _angoff_plan(
    items: list[tuple[int, str]], *, min_judges: int = 1
) -> tuple[dict | None, str | None]:
    """The Angoff cut of these items and how it was reached, or why there is none."""
    version_ids = [v for v, _ in items]
    rows = list(
        AngoffRating.objects.filter(item_version_id__in=version_ids)
        .order_by("judge_id")
        .values_list("judge_id", "judge__username", "item_version_id", "rating")
    )
    rated = {v for _, _, v, _ in rows}
    missing = [key for v, key in items if v not in rated]
    if missing:
        return None, (
            f"{_items(len(missing))} {'has' if len(missing) == 1 else 'have'} no Angoff "
            f"rating: {_keys_list(missing)}"
        )
    judges = sorted({(j, name) for j, name, _, _ in rows})
    if len(judges) < min_judges:
        return None, (
            f"its Angoff ratings come from {len(judges)} judge"
            f"{'' if len(judges) == 1 else 's'}; a program's form needs a panel of at least "
            f"{min_judges}, so that no one person sets its cut"
        )
    row_of = {j: i for i, (j, _) in enumerate(judges)}
    col_of = {v: i for i, v in enumerate(version_ids)}
    matrix = np.full((len(judges), len(items)), np.nan)
    for judge_id, _, version_id, rating in rows:
        matrix[row_of[judge_id], col_of[version_id]] = float(rating)
    cut = angoff_cut(matrix)
    # A judge's missing ratings count at the item's mean (scale.angoff_cut), shown per judge.
    filled = np.where(np.isnan(matrix), np.nanmean(matrix, axis=0), matrix)
    derivation = {
        "source": "Modified Angoff: mean over judges of each judge's summed ratings on the "
        "operational items (a judge's missing rating counts at the item's mean).",
        "items": len(items),
        "judges": [
            {
                "id": judge_id,
                "username": name,
                "rated": int((~np.isnan(matrix[i])).sum()),
                "sum": round(float(filled[i].sum()), 4),
            }
            for i, (judge_id, name) in enumerate(judges)
        ],
        "ratings": len(rows),
        "filled": int(np.isnan(matrix).sum()),
        "cut": cut,
    }
    return derivation, None


def _equating_plan(form: ExamForm, items: list[tuple[int, str]]) -> tuple[dict | None, str | None]:
    """Everything equating needs, or why the form cannot be equated."""
    difficulties = calibrated_difficulties([v for v, _ in items])
    uncalibrated = [key for v, key in items if v not in difficulties]
    if len(uncalibrated) == len(items):
        return None, f"no calibrated difficulties for any of its {_items(len(items))}"
    if uncalibrated:
        return None, (
            f"{_items(len(uncalibrated))} {'has' if len(uncalibrated) == 1 else 'have'} no "
            f"calibrated difficulty: {_keys_list(uncalibrated)}"
        )
    if form.blueprint_id is None:
        return None, "the form has no blueprint, hence no base form"
    base_form = blueprint_base_form(form.blueprint_id)
    if base_form is None:
        return None, f"its blueprint {form.blueprint} has no base form"
    if base_form.pk == form.pk:
        return None, "it is its blueprint's base form, whose cut comes from its own panel"
    base_conversion = ScaleConversion.objects.filter(form_id=base_form.pk).first()
    if base_conversion is None:
        return None, f"the base form {base_form} has no conversion table"
    base_items = operational_items(base_form)
    base_difficulties = calibrated_difficulties([v for v, _ in base_items])
    base_uncalibrated = [key for v, key in base_items if v not in base_difficulties]
    if base_uncalibrated:
        return None, (
            f"{_items(len(base_uncalibrated))} of the base form {base_form} "
            f"{'has' if len(base_uncalibrated) == 1 else 'have'} no calibrated difficulty: "
            f"{_keys_list(base_uncalibrated)}"
        )
    return {
        "base_form": base_form,
        "base_cut": base_conversion.cut,
        "form_b": [difficulties[v] for v, _ in items],
        "base_b": [base_difficulties[v] for v, _ in base_items],
        "keys": [key for _, key in items],
    }, None


def _first_passing(table: list[int], passing: int = results.PASSING) -> int:
    return next(r for r, s in enumerate(table) if s >= passing)


def _equated_fields(equating: dict, n: int) -> dict:
    """A ScaleConversion's fields from an equating plan (see _equating_plan)."""
    form_b = np.array(equating["form_b"])
    base_b = np.array(equating["base_b"])
    table = equated_conversion(form_b, base_b, equating["base_cut"])
    theta_cut = float(theta_for_expected_score(equating["base_cut"], base_b))
    # The form's own raw cut: the expected raw score, on this form, of the ability that
    # just reaches the base form's cut. Its ceiling is the first raw score to pass.
    cut = float(expected_score(theta_cut, form_b))
    return {
        "method": ConversionMethod.EQUATED,
        "cut": cut,
        "raw_passing_score": _first_passing(table),
        "table": table,
        "base_form": equating["base_form"],
        "derivation": {
            "source": "IRT true-score equating (Rasch) to the base form: the ability "
            "that reaches the base form's cut scores 300 on this form.",
            "items": n,
            "base_form": equating["base_form"].name,
            "base_items": len(base_b),
            "base_cut": equating["base_cut"],
            "theta_cut": theta_cut,
            "difficulties": dict(zip(equating["keys"], equating["form_b"], strict=True)),
        },
    }


def _version_record(
    conversion: ScaleConversion,
    *,
    reason: str,
    by=None,
    now: dt.datetime | None = None,
    rescored: bool = True,
) -> ConversionVersion:
    """Keep the conversion's current state as its version row (replacing a draft's row)."""
    fields = {
        "method": conversion.method,
        "max_raw": conversion.max_raw,
        "cut": conversion.cut,
        "raw_passing_score": conversion.raw_passing_score,
        "table": conversion.table,
        "base_form": conversion.base_form,
        "derivation": conversion.derivation,
        "reason": reason,
        "created_by": by,
        "created_at": now or timezone.now(),
        "rescored": rescored,
    }
    record, _ = ConversionVersion.objects.update_or_create(
        form_id=conversion.form_id, version=conversion.version, defaults=fields
    )
    return record


@transaction.atomic
def form_conversion_build(*, form: ExamForm, by=None) -> ScaleConversion:
    """Compute and store the form's raw-to-scaled table (called when a form is published).

    By IRT true-score equating to the blueprint's base form when every operational item
    (here and on the base form) has a calibrated difficulty, so that the same ability
    passes on every form; otherwise from the form's own Angoff cut. Raises ValidationError
    saying what is missing when neither is possible. A draft form's table is rebuilt on
    every call (it stays version 1: nobody was scored with it); a published form's table
    changes only through form_cut_override and form_conversion_reequate, each a new version.
    """
    if form.kind != FormKind.EXAM:
        raise ValidationError("Practice sets are not scaled and have no conversion table.")
    existing = ScaleConversion.objects.select_for_update().filter(form=form).first()
    if existing is not None and form.is_published:
        raise ValidationError(
            f"{form} is published and already has its conversion table; override its cut instead."
        )
    items = operational_items(form)
    if not items:
        raise ValidationError(f"{form} has no operational items to score.")
    n = len(items)

    equating, not_equated = _equating_plan(form, items)
    if equating is not None:
        fields = _equated_fields(equating, n)
    else:
        min_judges = angoff_panel_size(program_owned=form.owner_program_id is not None)
        derivation, no_angoff = _angoff_plan(items, min_judges=min_judges)
        if derivation is None:
            raise ValidationError(
                [
                    f"{form} has no conversion table and cannot be published: {no_angoff}.",
                    f"It cannot be equated to a base form either: {not_equated}.",
                ]
            )
        cut = derivation["cut"]
        try:
            table = conversion_table(n, cut)
        except ValueError as exc:
            raise ValidationError(
                f"The Angoff cut of {form} is {cut:.2f} of {n} points; a cut must lie "
                f"strictly between 0 and {n}: review the ratings of its items."
            ) from exc
        derivation["not_equated"] = not_equated
        fields = {
            "method": ConversionMethod.ANGOFF,
            "cut": cut,
            "raw_passing_score": raw_passing_score(cut),
            "table": table,
            "base_form": None,
            "derivation": derivation,
        }
    fields["derivation"]["built_by"] = None if by is None else by.get_username()
    fields.update(max_raw=n, override_reason="", overridden_by=None, overridden_at=None)
    if existing is None:
        conversion = with_actor(ScaleConversion(form=form, **fields), by, "Built at publication")
        conversion.save()
    else:
        for name, value in fields.items():
            setattr(existing, name, value)
        with_actor(existing, by, "Rebuilt")
        existing.save()
        conversion = existing
    _version_record(conversion, reason="Built for publication", by=by)
    return conversion


def _rescore_after_commit(form_id: int) -> None:
    # After commit, so the worker reads the new table; the sweep (rescore_stale) does it
    # anyway if the message is lost, so a broker that is down never fails the request.
    def hint() -> None:
        try:
            tasks.rescore_form.apply_async((form_id,), retry=False)
        except Exception as exc:
            logger.warning("rescoring hint for form %s not sent (%s); the sweep will", form_id, exc)

    transaction.on_commit(hint)


def _new_version(
    conversion: ScaleConversion, *, reason: str, by, now: dt.datetime, rescore: bool = True
) -> ConversionVersion:
    """Make the conversion's current state its next version. With `rescore`, every result
    scored with an earlier version is owed a rescoring (rescore_from), done after commit;
    without, the results issued so far stand and only attempts scored later use it."""
    conversion.version += 1
    if rescore:
        conversion.rescore_from = conversion.version
    conversion.save()
    record = _version_record(conversion, reason=reason, by=by, now=now, rescored=rescore)
    if rescore:
        _rescore_after_commit(conversion.form_id)
    return record


@transaction.atomic
def form_cut_override(
    *, form: ExamForm, cut: float, reason: str, by, now: dt.datetime | None = None
) -> ScaleConversion:
    """A cut set by hand; the table is rebuilt from it. Applied only when a second person
    confirms a proposal (scoring.cut_proposals), never by one person's request.

    Who, when and why are recorded, and every earlier cut stays listed in the derivation
    and as a ConversionVersion. The table gets a new version and every scored attempt on
    the form is rescored with it (a Celery task, after commit); each earlier result stays
    in ResultHistory. When the form is a blueprint's base form its cut is the standard
    the other forms are equated to, so they are re-equated (and rescored) too.
    """
    if by is None or not by.has_perm("scoring.change_scaleconversion"):
        raise PermissionDenied("You do not have permission to change conversion tables.")
    if not may_change(by, form.owner_program_id):
        # A shared form's cut is the operator's: every program's candidates are scored by it.
        raise PermissionDenied("Only the staff of the form's program may override its cut.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("Give the reason for overriding the cut; it is kept on record.")
    conversion = ScaleConversion.objects.select_for_update().filter(form=form).first()
    if conversion is None:
        raise ValidationError(f"{form} has no conversion table yet; publish it first.")
    try:
        cut = float(cut)
        table = conversion_table(conversion.max_raw, cut)
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            f"The cut is a raw score: a number greater than 0 and less than "
            f"{conversion.max_raw:g}, the form's highest raw score."
        ) from exc
    now = now or timezone.now()
    derivation = dict(conversion.derivation or {})
    derivation.setdefault("overrides", []).append(
        {
            "previous_method": conversion.method,
            "previous_cut": conversion.cut,
            "previous_version": conversion.version,
            "cut": cut,
            "reason": reason,
            "by": by.get_username(),
            "at": now.isoformat(),
        }
    )
    conversion.method = ConversionMethod.OVERRIDE
    conversion.cut = cut
    conversion.raw_passing_score = raw_passing_score(cut)
    conversion.table = table
    conversion.derivation = derivation
    conversion.override_reason = reason
    conversion.overridden_by = by
    conversion.overridden_at = now
    with_actor(conversion, by, f"Cut overridden: {reason}")
    _new_version(conversion, reason=f"Cut set to {cut:g} by hand: {reason}", by=by, now=now)
    if BaseForm.objects.filter(form=form).exists():
        for dependent in ExamForm.objects.filter(
            conversion__base_form=form, conversion__method=ConversionMethod.EQUATED
        ):
            form_conversion_reequate(
                form=dependent,
                by=by,
                reason=f"The base form {form}'s cut changed: {reason}",
                now=now,
            )
    return conversion


@transaction.atomic
def form_conversion_reequate(
    *,
    form: ExamForm,
    reason: str,
    by=None,
    now: dt.datetime | None = None,
    rescore: bool = True,
) -> ScaleConversion | None:
    """Re-equate a published form to its base form from the current calibrations.

    After a new calibration (or a change of the base form's cut) the equated table of a
    form can change: when it does, it becomes a new version and, with `rescore`, the
    form's scored attempts are rescored (without, their results stand and the new table
    scores the attempts scored from now on). Returns the conversion when it changed, None
    when the table is the same or the form cannot be equated (not every operational item
    calibrated, no base form, the base form itself). A cut set by hand is left alone: an
    instructor decided it.
    """
    conversion = ScaleConversion.objects.select_for_update().filter(form=form).first()
    if conversion is None or conversion.method == ConversionMethod.OVERRIDE:
        return None
    items = operational_items(form)
    equating, _ = _equating_plan(form, items)
    if equating is None:
        return None
    fields = _equated_fields(equating, len(items))
    if (
        conversion.method == ConversionMethod.EQUATED
        and conversion.table == fields["table"]
        and abs(conversion.cut - fields["cut"]) < 1e-9
    ):
        return None
    now = now or timezone.now()
    fields["derivation"]["previous"] = {
        "version": conversion.version,
        "method": conversion.method,
        "cut": conversion.cut,
    }
    for name, value in fields.items():
        setattr(conversion, name, value)
    with_actor(conversion, by, reason)
    _new_version(conversion, reason=reason, by=by, now=now, rescore=rescore)
    return conversion


def forms_reequate(
    *, reason: str, by=None, form_ids=None, rescore: bool | None = None
) -> list[ScaleConversion]:
    """Re-equate every published exam form that can be after a new calibration; the
    conversions that changed. Their scored attempts are rescored when `rescore` says so,
    by default when settings.CCS_RESCORE_AFTER_CALIBRATION does."""
    if rescore is None:
        rescore = settings.CCS_RESCORE_AFTER_CALIBRATION
    forms = ExamForm.objects.exams().published().filter(conversion__isnull=False)
    if form_ids is not None:
        forms = forms.filter(pk__in=list(form_ids))
    changed = []
    for form in forms.order_by("pk"):
        conversion = form_conversion_reequate(form=form, reason=reason, by=by, rescore=rescore)
        if conversion is not None:
            changed.append(conversion)
    return changed


@transaction.atomic
def base_form_set(*, blueprint: Blueprint, form: ExamForm, by=None) -> BaseForm:
    """Make `form` the base form of `blueprint`: the form every later form is equated to."""
    if form.kind != FormKind.EXAM or form.blueprint_id != blueprint.pk:
        raise ValidationError(f"{form} is not an exam form of the blueprint {blueprint}.")
    if not ScaleConversion.objects.filter(form=form).exists():
        raise ValidationError(
            f"{form} has no conversion table yet: the base form's cut is the standard the "
            "other forms are equated to, so publish it (with its Angoff cut) first."
        )
    if by is not None and not is_operator(by):
        # Blueprints are shared: their base form anchors every program's forms of it.
        raise PermissionDenied(
            "A blueprint's base form is the standard of every program's forms of it: "
            "only the platform operator sets it."
        )
    base, _ = BaseForm.objects.update_or_create(
        blueprint=blueprint, defaults={"form": form, "set_by": by}
    )
    return base


# --- Scoring an attempt -------------------------------------------------------------------
class AttemptNotFinished(ApplicationError):
    """Scoring was asked for an attempt that is still in progress."""

    status_code = 409


def _item_specs(form_id: int) -> list[results.ItemSpec]:
    """Everything scoring needs about the form's items, in two queries.

    Joins on the form rather than lists of ~107 ids: building and sending those IN lists
    was most of the cost of scoring an attempt.
    """
    rows = (
        FormItem.objects.filter(form_id=form_id)
        .order_by("position")
        .values_list(
            "pk",
            "is_pretest",
            "item_version_id",
            "item_version__kind",
            "item_version__partial_credit",
            "item_version__domain__number",
            "item_version__calibration__difficulty",
        )
        .annotate(angoff=Avg("item_version__angoff_ratings__rating"))
    )
    keys: dict[int, set[int]] = defaultdict(set)
    for version_id, option_id in Option.objects.filter(
        version__form_items__form_id=form_id, is_key=True
    ).values_list("version_id", "pk"):
        keys[version_id].add(option_id)
    return [
        results.ItemSpec(
            ref=pk,
            kind=kind,
            keys=frozenset(keys[version_id]),
            partial=partial,
            pretest=pretest,
            domain=domain,
            angoff=None if angoff is None else float(angoff),
            difficulty=difficulty,
        )
        for pk, pretest, version_id, kind, partial, domain, difficulty, angoff in rows
    ]


def domain_results_json(domains: Iterable[results.DomainResult]) -> dict:
    """AttemptResult.domain_results: what score reports and drill-downs read."""
    return {
        str(d.domain): {
            "score": d.score,
            "items": d.items,
            "percent": round(d.percent, 2),
            "expected": None if d.expected is None else round(d.expected, 2),
            "expected_from": d.expected_from,
            "band": d.band,
            "margin": results.BAND_MARGIN,
        }
        for d in domains
    }


def item_calibrations_store(
    values: list[tuple[int, float, float | None, int]], method: str, now: dt.datetime
) -> None:
    """Store (item version id, difficulty, its SE, responses) from a calibration run; the
    one writer of ItemCalibration, which equating and ability estimates read."""
    ItemCalibration.objects.bulk_create(
        [
            ItemCalibration(
                item_version_id=version_id,
                difficulty=difficulty,
                se=se,
                n_responses=n,
                method=method,
                calibrated_at=now,
            )
            for version_id, difficulty, se, n in values
        ],
        update_conflicts=True,
        unique_fields=["item_version"],
        update_fields=["difficulty", "se", "n_responses", "method", "calibrated_at"],
    )
    log_event("calibration.stored", method=method, items=len(values))


def results_store_bulk(
    *, rows: Iterable[tuple[int, dict, list[results.DomainResult]]], batch_size: int = 5000
) -> int:
    """Store results computed elsewhere in bulk: (attempt id, result fields, domain results).

    For generated demo and load data, whose scores come from a model of abilities rather
    than from answers; live attempts go through attempt_score. Returns how many were stored.
    """
    rows = list(rows)
    stored = AttemptResult.objects.bulk_create(
        [
            AttemptResult(attempt_id=attempt_id, **{"item_scores": {}, **fields})
            for attempt_id, fields, _ in rows
        ],
        batch_size=batch_size,
    )
    DomainScore.objects.bulk_create(
        [
            row
            for result, (_, _, domains) in zip(stored, rows, strict=True)
            for row in domain_score_rows(result.pk, domains)
        ],
        batch_size=batch_size,
    )
    return len(stored)


def domain_score_rows(result_id: int, domains: Iterable[results.DomainResult]) -> list:
    """The DomainScore rows of a result (what the dashboards sum), unsaved."""
    return [
        DomainScore(result_id=result_id, domain=d.domain, score=d.score, items=d.items)
        for d in domains
    ]


def _result_fields(score: results.AttemptScore) -> dict:
    return {
        "raw_score": score.raw,
        "max_raw": score.max_raw,
        "scaled_score": score.scaled,
        "passed": score.passed,
        "theta": score.theta,
        "theta_se": score.theta_se,
        "scaled_low": score.scaled_low,
        "scaled_high": score.scaled_high,
        "pass_probability": score.pass_probability,
        "domain_results": domain_results_json(score.domains),
        "item_scores": {str(ref): value for ref, value in score.item_scores.items()},
    }


def attempt_score(*, attempt_id: int) -> AttemptResult:
    """Score a submitted or expired attempt once and store the result; idempotent.

    A second call returns the stored result. Two workers scoring the same attempt at once
    (a retried task, the expiry sweep racing a submit) are serialised by a row lock on the
    attempt, and the one-to-one result row settles any race the lock cannot (SQLite).

    Practice attempts are scored for the candidate's feedback, without a scaled score;
    reports and histories leave them out (scoring.selectors).
    """
    stored = AttemptResult.objects.filter(attempt_id=attempt_id).first()
    if stored is not None:
        return stored
    with timed_event("attempt.scored", attempt_id=attempt_id) as event:
        result = _attempt_score_once(attempt_id)
        event.update(scaled_score=result.scaled_score, passed=result.passed)
    return result


@transaction.atomic
def _attempt_score_once(attempt_id: int) -> AttemptResult:
    # Lock the attempt row only: joining the form here would lock the form row too and
    # serialise the scoring of a whole cohort that submitted at once.
    attempt = Attempt.objects.select_for_update().get(pk=attempt_id)
    if attempt.state == AttemptState.IN_PROGRESS:
        raise AttemptNotFinished(
            f"Attempt {attempt_id} is still in progress; it is scored when it is "
            "submitted or its time runs out."
        )
    stored = AttemptResult.objects.filter(attempt_id=attempt_id).first()
    if stored is not None:
        return stored
    conversion = None
    if attempt.mode == AttemptMode.EXAM:
        conversion = ScaleConversion.objects.filter(form_id=attempt.form_id).first()
    selections = dict(
        Response.objects.filter(attempt_id=attempt_id).values_list("form_item_id", "selection")
    )
    score = results.score_attempt(
        _item_specs(attempt.form_id),
        selections,
        table=None if conversion is None else conversion.table,
        cut=None if conversion is None else conversion.cut,
    )
    try:
        with transaction.atomic():
            result = AttemptResult.objects.create(
                attempt=attempt,
                conversion_version=None if conversion is None else conversion.version,
                **_result_fields(score),
            )
            DomainScore.objects.bulk_create(domain_score_rows(result.pk, score.domains))
    except IntegrityError:
        return AttemptResult.objects.get(attempt_id=attempt_id)
    Attempt.objects.filter(pk=attempt_id).update(
        scored_at=result.scored_at,
        **attempt_summary_fields(
            raw=score.raw,
            max_raw=score.max_raw,
            scaled=score.scaled,
            passed=score.passed,
            answered=sum(1 for s in selections.values() if s),
        ),
    )
    signals.attempt_scored.send(sender=AttemptResult, attempt_id=attempt_id, result=result)
    return result


# How many attempts one sweep scores; the next sweep takes the rest.
PENDING_BATCH = 500


def attempts_score_pending(*, limit: int = PENDING_BATCH) -> int:
    """Score finalised attempts that have no score, oldest first; returns how many this call
    scored. Safe with two workers: each attempt is scored under its row lock and a stored
    result is never replaced. One attempt that cannot be scored is logged and skipped so
    that it never holds up the others."""
    ids = list(
        Attempt.objects.awaiting_score()
        .order_by("submitted_at")
        .values_list("pk", flat=True)[:limit]
    )
    done = 0
    for attempt_id in ids:
        try:
            attempt_score(attempt_id=attempt_id)
            done += 1
        except Exception:  # logged with its id; the next sweep tries it again
            logger.exception("scoring sweep: attempt %s could not be scored", attempt_id)
    if ids:
        log_event("scoring.sweep", found=len(ids), scored=done)
    return done


def attempt_summary_fields(
    *, raw: float, max_raw: float, scaled: int | None, passed: bool | None, answered: int
) -> dict:
    """The copy of a result kept on the attempt (Attempt.raw_score and .result), which the
    candidate's home and the result page read without joining the result table."""
    return {
        "raw_score": Decimal(str(round(raw, 3))),
        "result": {
            "raw_score": raw,
            "max_raw": max_raw,
            "scaled_score": scaled,
            "passed": passed,
            "answered": answered,
        },
    }


# --- Rescoring ------------------------------------------------------------------------------
_HISTORY_FIELDS = (
    "version",
    "conversion_version",
    "raw_score",
    "max_raw",
    "scaled_score",
    "passed",
    "theta",
    "theta_se",
    "scaled_low",
    "scaled_high",
    "pass_probability",
    "domain_results",
    "scored_at",
)


def stale_results(*, form_id: int | None = None):
    """Exam results owed a rescoring: scored with a version of their form's table older
    than the latest version that rescores (ScaleConversion.rescore_from), or with none."""
    rows = AttemptResult.objects.filter(
        Q(conversion_version__lt=F("attempt__form__conversion__rescore_from"))
        | Q(conversion_version__isnull=True),
        attempt__mode=AttemptMode.EXAM,
        attempt__form__kind=FormKind.EXAM,
    )
    rows = rows.filter(attempt__form__conversion__isnull=False)
    return rows if form_id is None else rows.filter(attempt__form_id=form_id)


def form_rescore(*, form_id: int) -> int:
    """Rescore every exam result on the form that was scored with an earlier table.

    Idempotent: a result already scored with the current version is left alone, so a
    retried task or the sweep running beside it changes nothing twice. Each result is
    rescored in its own transaction under the attempt's row lock (as attempt_score takes
    it); the result it replaces is kept in ResultHistory with the new table version's
    author, time and reason. Returns how many results changed.
    """
    specs = None
    done = 0
    ids = list(stale_results(form_id=form_id).order_by("pk").values_list("pk", flat=True))
    with timed_event("form.rescored", form_id=form_id) as event:
        for result_id in ids:
            if specs is None:
                specs = _item_specs(form_id)
            done += _result_rescore(result_id=result_id, specs=specs)
        event.update(results=done)
    return done


def results_rescore_stale() -> int:
    """The sweep: rescore whatever a lost task left scored with an old table."""
    form_ids = sorted(set(stale_results().values_list("attempt__form_id", flat=True)))
    return sum(form_rescore(form_id=form_id) for form_id in form_ids)


@transaction.atomic
def _result_rescore(*, result_id: int, specs: list[results.ItemSpec]) -> int:
    result = AttemptResult.objects.filter(pk=result_id).first()
    if result is None:
        return 0
    Attempt.objects.select_for_update().filter(pk=result.attempt_id).first()
    result = AttemptResult.objects.select_for_update().get(pk=result_id)
    conversion = ScaleConversion.objects.get(form__attempts__pk=result.attempt_id)
    if result.conversion_version is not None and (
        result.conversion_version >= conversion.rescore_from
    ):
        return 0
    record = ConversionVersion.objects.filter(
        form_id=conversion.form_id, version=conversion.version
    ).first()
    now = timezone.now()
    selections = dict(
        Response.objects.filter(attempt_id=result.attempt_id).values_list(
            "form_item_id", "selection"
        )
    )
    if selections:
        score = results.score_attempt(specs, selections, table=conversion.table, cut=conversion.cut)
        fields = _result_fields(score)
        answered = sum(1 for s in selections.values() if s)
        domains = score.domains
    else:
        # A result generated without its answers (bulk demo and load data): only the
        # table changed, so the stored raw score is looked up in the new one.
        scaled = results.lookup(conversion.table, result.raw_score)
        fields = {"scaled_score": scaled, "passed": scaled >= results.PASSING}
        answered = (result.attempt.result or {}).get("answered", 0)
        domains = None
    ResultHistory.objects.create(
        attempt_id=result.attempt_id,
        superseded_at=now,
        superseded_by=None if record is None else record.created_by,
        reason="" if record is None else record.reason,
        **{name: getattr(result, name) for name in _HISTORY_FIELDS},
    )
    for name, value in fields.items():
        setattr(result, name, value)
    result.version += 1
    result.conversion_version = conversion.version
    result.change_reason = "" if record is None else record.reason
    result.scored_at = now
    # The audit trail's record of the change names the table version's author and reason.
    with_actor(
        result,
        None if record is None else record.created_by,
        f"Rescored with conversion table version {conversion.version}"
        + ("" if record is None or not record.reason else f": {record.reason}"),
    )
    result.save()
    if domains is not None:
        DomainScore.objects.filter(result=result).delete()
        DomainScore.objects.bulk_create(domain_score_rows(result.pk, domains))
    Attempt.objects.filter(pk=result.attempt_id).update(
        **attempt_summary_fields(
            raw=result.raw_score,
            max_raw=result.max_raw,
            scaled=result.scaled_score,
            passed=result.passed,
            answered=answered,
        )
    )
    signals.attempt_rescored.send(sender=AttemptResult, attempt_id=result.attempt_id, result=result)
    log_event(
        "attempt.rescored",
        attempt_id=result.attempt_id,
        version=result.version,
        conversion_version=conversion.version,
        scaled_score=result.scaled_score,
        passed=result.passed,
    )
    return 1
