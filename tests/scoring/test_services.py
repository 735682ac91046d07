"""Scoring services: conversion tables of forms, the cut override, and attempt scores."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import numpy as np
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from exams import services as exams_services
from exams.models import Attempt, AttemptMode, AttemptState, FormItem
from psychometrics.rasch import equated_conversion, estimate_theta, expected_score
from psychometrics.scale import conversion_table
from questionbank.models import AngoffRating
from scoring import selectors, services, tasks
from scoring.models import (
    AttemptResult,
    BaseForm,
    ConversionMethod,
    ConversionVersion,
    ResultHistory,
    ScaleConversion,
)
from tests.conftest import need
from tests.factories import (
    bank_items,
    blueprint_with,
    calibrate,
    draft_form,
    finished_attempt,
    judges,
    operational_versions,
    publish,
    rate,
    scored_form,
)

pytestmark = pytest.mark.django_db


def keys_of(form, *, pretest=False):
    return list(
        FormItem.objects.filter(form=form, is_pretest=pretest)
        .order_by("position")
        .values_list("item_version__item__key", flat=True)
    )


# --- Conversion tables ----------------------------------------------------------------------
def test_conversion_is_built_from_the_angoff_cut_of_the_operational_items():
    form = draft_form({1: 3, 2: 2}, pretest=1)
    panel = judges(2)
    rate(operational_versions(form), rating=[0.5, 0.7], judges_=panel)

    conversion = services.form_conversion_build(form=form)

    # Each judge's sum: 5 × 0.5 = 2.5 and 5 × 0.7 = 3.5; the cut is their mean.
    assert conversion.method == ConversionMethod.ANGOFF
    assert conversion.cut == pytest.approx(3.0)
    assert conversion.max_raw == 5
    assert conversion.raw_passing_score == 3
    assert conversion.table == conversion_table(5, 3.0) == [100, 167, 233, 300, 350, 400]
    assert [j["sum"] for j in conversion.derivation["judges"]] == [2.5, 3.5]
    assert conversion.derivation["items"] == 5
    assert "no calibrated difficulties" in conversion.derivation["not_equated"]


def test_a_judges_missing_rating_counts_at_the_items_mean():
    form = draft_form({1: 2})
    a, b = operational_versions(form)
    panel = judges(2)
    AngoffRating.objects.create(item_version_id=a, judge=panel[0], rating=Decimal("0.4"))
    AngoffRating.objects.create(item_version_id=a, judge=panel[1], rating=Decimal("0.6"))
    AngoffRating.objects.create(item_version_id=b, judge=panel[0], rating=Decimal("0.8"))

    conversion = services.form_conversion_build(form=form)

    # Judge 2 skipped item b: counted at 0.8, so sums are 1.2 and 1.4.
    assert conversion.cut == pytest.approx(1.3)
    assert conversion.derivation["filled"] == 1


def test_publishing_needs_a_table_and_the_message_names_what_is_missing():
    form = draft_form({1: 3, 2: 2})
    versions = operational_versions(form)
    rate(versions[:3])
    unrated = keys_of(form)[3:]

    with pytest.raises(ValidationError) as caught:
        services.form_conversion_build(form=form)

    text = " ".join(caught.value.messages)
    assert f"2 operational items have no Angoff rating: {', '.join(unrated)}" in text
    assert "no calibrated difficulties" in text
    assert not ScaleConversion.objects.exists()


def test_a_long_list_of_missing_items_is_shortened():
    form = draft_form({1: 12})
    with pytest.raises(ValidationError) as caught:
        services.form_conversion_build(form=form)
    text = " ".join(caught.value.messages)
    assert "12 operational items have no Angoff rating" in text
    assert "… and 2 more" in text


def test_an_angoff_cut_at_the_maximum_is_refused_with_a_reason():
    form = draft_form({1: 3})
    rate(operational_versions(form), rating=1.0)
    with pytest.raises(ValidationError, match="strictly between 0 and 3"):
        services.form_conversion_build(form=form)


def test_a_draft_forms_table_is_rebuilt_but_a_published_forms_is_not():
    form = draft_form({1: 2})
    rate(operational_versions(form), rating=0.5)
    first = services.form_conversion_build(form=form)
    AngoffRating.objects.update(rating=Decimal("0.6"))
    again = services.form_conversion_build(form=form)
    assert again.pk == first.pk and again.cut == pytest.approx(1.2)

    form = publish(form)
    with pytest.raises(ValidationError, match="override its cut instead"):
        services.form_conversion_build(form=form)


def test_practice_sets_have_no_table(candidate):
    bank_items(1, 3)
    attempt = exams_services.practice_start(candidate=candidate, domains=[1], count=3, timed=False)
    with pytest.raises(ValidationError, match="Practice sets"):
        services.form_conversion_build(form=attempt.form)


# --- Override -------------------------------------------------------------------------------
def test_override_rebuilds_the_table_and_records_who_when_and_why(instructor):
    form = scored_form({1: 4}, rating=0.5, program="a")
    at = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)

    conversion = services.form_cut_override(
        form=form, cut=3.0, reason="Panel was too lenient on case items.", by=instructor, now=at
    )

    conversion.refresh_from_db()
    assert conversion.method == ConversionMethod.OVERRIDE
    assert conversion.cut == 3.0
    assert conversion.raw_passing_score == 3
    assert conversion.table == conversion_table(4, 3.0)
    assert conversion.override_reason == "Panel was too lenient on case items."
    assert conversion.overridden_by == instructor
    assert conversion.overridden_at == at
    (record,) = conversion.derivation["overrides"]
    assert record["previous_cut"] == pytest.approx(2.0)
    assert record["previous_method"] == "angoff"
    assert record["by"] == instructor.username
    # The panel's own derivation stays on record.
    assert len(conversion.derivation["judges"]) == 2


def test_override_needs_permission_a_reason_and_a_cut_in_range(instructor, candidate, admin_user):
    shared = scored_form({1: 4}, name="Shared")
    with pytest.raises(PermissionDenied, match="form's program"):
        services.form_cut_override(form=shared, cut=3, reason="x", by=instructor)
    # The operator may override a shared form's cut.
    services.form_cut_override(form=shared, cut=3, reason="operator", by=admin_user)
    form = scored_form({1: 4}, program="a")
    with pytest.raises(PermissionDenied):
        services.form_cut_override(form=form, cut=3, reason="x", by=candidate)
    with pytest.raises(ValidationError, match="reason"):
        services.form_cut_override(form=form, cut=3, reason="  ", by=instructor)
    for bad in (4, 0, "soon"):
        with pytest.raises(ValidationError, match="greater than 0 and less than 4,") as caught:
            services.form_cut_override(form=form, cut=bad, reason="too strict", by=instructor)
        assert "max_raw" not in str(caught.value)  # no internal names in what users read


def test_override_after_scoring_rescores_and_keeps_the_old_result_in_history(
    instructor, candidate, django_capture_on_commit_callbacks
):
    form = scored_form({1: 4}, rating=0.5, program="a")  # cut 2 of 4: raw 2 passes
    answers = iter([True, True, False, False])
    attempt = finished_attempt(form, candidate, correct=lambda fi: next(answers))
    first = services.attempt_score(attempt_id=attempt.pk)
    assert (first.raw_score, first.scaled_score, first.passed) == (2.0, 300, True)
    assert first.version == 1 and first.conversion_version == 1

    with django_capture_on_commit_callbacks(execute=True):
        conversion = services.form_cut_override(
            form=form, cut=3.0, reason="Panel was too lenient.", by=instructor
        )

    assert conversion.version == 2
    versions = list(ConversionVersion.objects.filter(form=form).order_by("version"))
    assert [(v.version, v.method, v.cut) for v in versions] == [
        (1, "angoff", pytest.approx(2.0)),
        (2, "override", 3.0),
    ]
    assert versions[1].created_by == instructor and "too lenient" in versions[1].reason
    current = AttemptResult.objects.get(attempt=attempt)
    assert current.pk == first.pk  # attempt.score still names the current result
    assert (current.scaled_score, current.passed) == (conversion.table[2], False)
    assert (current.version, current.conversion_version) == (2, 2)
    assert "too lenient" in current.change_reason
    (old,) = ResultHistory.objects.filter(attempt=attempt)
    assert (old.version, old.conversion_version, old.scaled_score, old.passed) == (1, 1, 300, True)
    assert old.superseded_by == instructor and "too lenient" in old.reason
    assert old.scored_at == first.scored_at and old.superseded_at >= first.scored_at
    attempt.refresh_from_db()
    assert attempt.result["scaled_score"] == current.scaled_score
    assert attempt.result["passed"] is False


def test_rescoring_is_idempotent_and_the_sweep_finds_what_a_lost_task_left(instructor, candidate):
    form = scored_form({1: 4}, rating=0.5, program="a")
    attempt = finished_attempt(form, candidate, correct=True)
    services.attempt_score(attempt_id=attempt.pk)
    # No on-commit callbacks run here: the queued task is "lost".
    services.form_cut_override(form=form, cut=3.5, reason="Stricter.", by=instructor)
    assert services.stale_results().count() == 1
    assert tasks.rescore_stale_results() == 1
    assert services.form_rescore(form_id=form.pk) == 0
    assert ResultHistory.objects.filter(attempt=attempt).count() == 1
    assert AttemptResult.objects.get(attempt=attempt).version == 2


def test_results_generated_without_answers_are_rescored_from_their_raw_score(instructor):
    form = scored_form({1: 4}, rating=0.5, program="a")
    from django.contrib.auth import get_user_model

    someone = get_user_model().objects.create_user("generated")
    attempt = finished_attempt(form, someone, correct=None)
    services.results_store_bulk(
        rows=[
            (
                attempt.pk,
                {
                    "raw_score": 2.0,
                    "max_raw": 4,
                    "scaled_score": 300,
                    "passed": True,
                    "conversion_version": 1,
                },
                [],
            )
        ]
    )
    services.form_cut_override(form=form, cut=3.0, reason="Stricter.", by=instructor)
    assert services.form_rescore(form_id=form.pk) == 1
    result = AttemptResult.objects.get(attempt=attempt)
    assert (result.raw_score, result.passed) == (2.0, False)


def test_practice_results_are_never_rescored(instructor, candidate):
    form = scored_form({1: 4}, rating=0.5, program="a")
    services.attempt_score(
        attempt_id=finished_attempt(form, candidate, mode=AttemptMode.PRACTICE).pk
    )
    services.form_cut_override(form=form, cut=3.0, reason="Stricter.", by=instructor)
    assert services.form_rescore(form_id=form.pk) == 0


# --- Equating -------------------------------------------------------------------------------
@pytest.fixture
def two_forms():
    """Two forms of one blueprint on disjoint items; the first is the base form."""
    counts = {1: 6, 2: 4}
    for number, count in counts.items():
        bank_items(number, 2 * count)
    blueprint = blueprint_with(counts)
    base = draft_form(counts, seed=1, name="Base", blueprint=blueprint, stock=False, program="a")
    rate(operational_versions(base), rating=0.6)
    base = publish(base)
    other = draft_form(
        counts,
        seed=2,
        name="Other",
        blueprint=blueprint,
        stock=False,
        exclude_versions=operational_versions(base),
        program="a",
    )
    assert not set(operational_versions(base)) & set(operational_versions(other))
    return blueprint, base, other


def test_calibrated_form_is_equated_to_the_base_form(two_forms):
    blueprint, base, other = two_forms
    rng = np.random.default_rng(5)
    base_b = rng.normal(0, 1, 10)
    other_b = base_b + 0.5  # a harder form
    calibrate(operational_versions(base), base_b)
    calibrate(operational_versions(other), other_b)
    services.base_form_set(blueprint=blueprint, form=base)

    conversion = services.form_conversion_build(form=other)

    base_conversion = ScaleConversion.objects.get(form=base)
    assert conversion.method == ConversionMethod.EQUATED
    assert conversion.base_form == base
    assert conversion.table == equated_conversion(other_b, base_b, base_conversion.cut)
    # A harder form needs no more raw points to pass than the base form.
    assert conversion.raw_passing_score <= base_conversion.raw_passing_score
    assert conversion.table[conversion.raw_passing_score] == 300
    # Its own raw cut is the expected score of the ability at the base form's cut.
    theta_cut = conversion.derivation["theta_cut"]
    assert expected_score(theta_cut, base_b) == pytest.approx(base_conversion.cut)
    assert conversion.cut == pytest.approx(expected_score(theta_cut, other_b))
    assert conversion.raw_passing_score == int(np.ceil(conversion.cut - 1e-9))


def test_a_form_equated_with_the_base_forms_difficulties_gets_the_base_table(two_forms):
    blueprint, base, other = two_forms
    b = np.linspace(-1.5, 1.5, 10)
    calibrate(operational_versions(base), b)
    calibrate(operational_versions(other), b)
    services.base_form_set(blueprint=blueprint, form=base)
    conversion = services.form_conversion_build(form=other)
    assert conversion.table == ScaleConversion.objects.get(form=base).table


def test_equating_needs_a_base_form_and_full_calibration(two_forms):
    blueprint, base, other = two_forms
    versions = operational_versions(other)
    calibrate(versions[:7], np.zeros(7))

    with pytest.raises(ValidationError) as caught:
        services.form_conversion_build(form=other)
    text = " ".join(caught.value.messages)
    assert "10 operational items have no Angoff rating" in text
    assert "3 operational items have no calibrated difficulty" in text

    calibrate(versions[7:], np.zeros(3))
    with pytest.raises(ValidationError, match="has no base form"):
        services.form_conversion_build(form=other)

    services.base_form_set(blueprint=blueprint, form=base)
    with pytest.raises(ValidationError, match="of the base form Base have no calibrated"):
        services.form_conversion_build(form=other)


def test_with_ratings_but_no_calibration_the_angoff_cut_is_used(two_forms):
    blueprint, base, other = two_forms
    services.base_form_set(blueprint=blueprint, form=base)
    rate(operational_versions(other), rating=0.7)
    conversion = services.form_conversion_build(form=other)
    assert conversion.method == ConversionMethod.ANGOFF
    assert conversion.cut == pytest.approx(7.0)


def test_base_form_must_belong_to_the_blueprint_and_have_a_table(two_forms):
    blueprint, base, other = two_forms
    with pytest.raises(ValidationError, match="no conversion table"):
        services.base_form_set(blueprint=blueprint, form=other)
    with pytest.raises(ValidationError, match="not an exam form of the blueprint"):
        services.base_form_set(blueprint=blueprint_with({1: 1}), form=base)
    services.base_form_set(blueprint=blueprint, form=base)
    assert BaseForm.objects.get(blueprint=blueprint).form == base


# --- Scoring attempts -----------------------------------------------------------------------
def right_on(positions):
    return lambda fi: fi.position in positions


def test_attempt_score_counts_operational_items_and_looks_up_the_scale(candidate):
    form = scored_form({1: 3, 2: 2}, pretest=2, rating=0.6)  # cut 3.0 of 5
    operational = set(form.items.filter(is_pretest=False).values_list("position", flat=True))
    three = sorted(operational)[:3]

    result = services.attempt_score(
        attempt_id=finished_attempt(form, candidate, correct=right_on(three)).pk
    )

    assert result.raw_score == 3.0
    assert result.max_raw == 5
    assert result.scaled_score == 300
    assert result.passed is True
    assert len(result.item_scores) == 7  # pretest items are scored too, for statistics
    attempt = Attempt.objects.get(pk=result.attempt_id)
    assert attempt.raw_score == Decimal("3.000")
    assert attempt.scored_at == result.scored_at
    assert attempt.result["scaled_score"] == 300 and attempt.result["passed"] is True


def test_one_point_below_the_raw_passing_score_fails(candidate):
    form = scored_form({1: 5}, rating=0.6)
    result = services.attempt_score(
        attempt_id=finished_attempt(form, candidate, correct=right_on({1, 2})).pk
    )
    assert (result.raw_score, result.scaled_score, result.passed) == (2.0, 233, False)


def test_changing_pretest_answers_changes_nothing_that_counts(candidate):
    form = scored_form({1: 3, 2: 2}, pretest=3)
    pretest = set(form.items.filter(is_pretest=True).values_list("pk", flat=True))
    operational_right = {fi.pk for fi in form.items.filter(is_pretest=False)[:2]}

    def answers(pretest_right):
        return lambda fi: pretest_right if fi.pk in pretest else fi.pk in operational_right

    scores = [
        services.attempt_score(attempt_id=finished_attempt(form, candidate, correct=answers(p)).pk)
        for p in (True, False, None)
    ]
    assert len({(s.raw_score, s.scaled_score, s.passed) for s in scores}) == 1
    assert len({str(s.domain_results) for s in scores}) == 1
    assert scores[0].item_scores != scores[1].item_scores


def test_attempt_score_is_idempotent(candidate):
    form = scored_form({1: 3})
    attempt = finished_attempt(form, candidate)
    first = services.attempt_score(attempt_id=attempt.pk)
    second = services.attempt_score(attempt_id=attempt.pk)
    assert second.pk == first.pk and second.scored_at == first.scored_at
    assert AttemptResult.objects.count() == 1


def test_an_attempt_in_progress_is_not_scored(candidate):
    form = scored_form({1: 3})
    attempt = exams_services.attempt_start(form=form, candidate=candidate)
    with pytest.raises(services.AttemptNotFinished):
        services.attempt_score(attempt_id=attempt.pk)
    assert tasks.score_attempt(attempt.pk) is None
    assert tasks.score_attempt(987654) is None
    assert not AttemptResult.objects.exists()


def test_the_task_scores_and_returns_the_scaled_score(candidate):
    form = scored_form({1: 3})
    attempt = finished_attempt(form, candidate, state=AttemptState.EXPIRED)
    assert tasks.score_attempt.delay(attempt.pk).get() == 400
    assert AttemptResult.objects.get(attempt=attempt).passed is True


def test_domain_bands_against_the_minimally_competent_candidates_percent(candidate):
    # Ratings 0.6: the minimally competent candidate is expected to get 60% everywhere.
    form = scored_form({1: 5, 2: 5, 3: 10}, rating=0.6)
    by_domain = {}
    for fi in form.items.select_related("item_version__domain").order_by("position"):
        by_domain.setdefault(fi.item_version.domain.number, []).append(fi.pk)
    right = set(by_domain[1][:4]) | set(by_domain[2][:1]) | set(by_domain[3][:5])

    result = services.attempt_score(
        attempt_id=finished_attempt(form, candidate, correct=lambda fi: fi.pk in right).pk
    )

    domains = result.domain_results
    assert domains["1"]["percent"] == 80.0 and domains["1"]["band"] == "above"
    assert domains["2"]["percent"] == 20.0 and domains["2"]["band"] == "below"
    # 50% is exactly the margin (10 points) below 60%: still near the standard.
    assert domains["3"]["percent"] == 50.0 and domains["3"]["band"] == "near"
    assert {d["expected"] for d in domains.values()} == {60.0}
    assert {d["expected_from"] for d in domains.values()} == {"angoff"}


def test_a_form_without_a_table_gets_a_raw_score_only(candidate):
    form = draft_form({1: 3})  # e.g. a form published before conversion tables existed
    attempt = finished_attempt(form, candidate)
    result = services.attempt_score(attempt_id=attempt.pk)
    assert (result.raw_score, result.scaled_score, result.passed) == (3.0, None, None)


def test_calibrated_forms_get_ability_precision_and_probability_of_passing(candidate):
    form = draft_form({1: 20, 2: 10})
    versions = operational_versions(form)
    b = np.linspace(-2, 2, 30)
    calibrate(versions, b)
    rate(versions, rating=0.6)  # cut 18 of 30
    form = publish(form)
    right = set(form.items.order_by("position").values_list("pk", flat=True)[:20])

    result = services.attempt_score(
        attempt_id=finished_attempt(form, candidate, correct=lambda fi: fi.pk in right).pk
    )

    x = np.array(
        [
            1.0 if pk in right else 0.0
            for pk in form.items.order_by("position").values_list("pk", flat=True)
        ]
    )
    theta, se = estimate_theta(x, b, method="wle")
    assert result.theta == pytest.approx(theta)
    assert result.theta_se == pytest.approx(se)
    assert result.scaled_low < result.scaled_score < result.scaled_high
    assert result.passed and 0.5 < result.pass_probability < 1


def test_practice_is_scored_for_feedback_but_kept_out_of_results(candidate):
    bank_items(1, 4)
    practice = exams_services.practice_start(candidate=candidate, domains=[1], count=4, timed=False)
    Attempt.objects.filter(pk=practice.pk).update(
        state=AttemptState.SUBMITTED, submitted_at=practice.started_at + dt.timedelta(minutes=5)
    )
    exam_form = scored_form({1: 3})
    exam = finished_attempt(exam_form, candidate)

    practice_result = services.attempt_score(attempt_id=practice.pk)
    exam_result = services.attempt_score(attempt_id=exam.pk)

    assert practice_result.scaled_score is None and practice_result.passed is None
    assert practice_result.max_raw == 4
    assert [row.attempt.pk for row in selectors.exam_history(user=candidate)] == [exam.pk]
    assert list(selectors.exam_results()) == [exam_result]
    assert Attempt.objects.get(pk=practice.pk).mode == AttemptMode.PRACTICE


def test_history_is_the_candidates_own_finished_exams_oldest_first(candidate, other_candidate):
    form = scored_form({1: 3})
    t0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
    later = finished_attempt(form, candidate, started_at=t0 + dt.timedelta(days=30))
    earlier = finished_attempt(form, candidate, started_at=t0)
    finished_attempt(form, other_candidate, started_at=t0)
    exams_services.attempt_start(form=form, candidate=candidate)  # in progress: not history
    rows = selectors.exam_history(user=candidate)
    assert [r.attempt.pk for r in rows] == [earlier.pk, later.pk]
    assert all(r.result is None for r in rows)


@pytest.mark.django_db(transaction=True)
def test_concurrent_scoring_stores_one_result(django_user_model):
    if connection.vendor != "postgresql":
        need("needs a database with row locks and concurrent connections (PostgreSQL)")
    candidate = django_user_model.objects.create_user(username="racer")
    form = scored_form({1: 5}, pretest=1)
    attempt = finished_attempt(form, candidate)
    barrier = threading.Barrier(4)
    found, errors = [], []

    def work():
        try:
            barrier.wait()
            found.append(services.attempt_score(attempt_id=attempt.pk).pk)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(set(found)) == 1
    assert AttemptResult.objects.filter(attempt=attempt).count() == 1


def test_a_new_cut_on_the_base_form_re_equates_the_forms_equated_to_it(two_forms, instructor):
    blueprint, base, other = two_forms
    rng = np.random.default_rng(9)
    base_b = rng.normal(0, 1, 10)
    other_b = base_b + 0.3
    calibrate(operational_versions(base), base_b)
    calibrate(operational_versions(other), other_b)
    services.base_form_set(blueprint=blueprint, form=base)
    other = publish(other)
    assert other.conversion.method == ConversionMethod.EQUATED

    services.form_cut_override(form=base, cut=7.5, reason="New standard.", by=instructor)

    other.conversion.refresh_from_db()
    assert other.conversion.version == 2
    assert other.conversion.table == equated_conversion(other_b, base_b, 7.5)
    record = ConversionVersion.objects.get(form=other, version=2)
    assert "cut changed: New standard." in record.reason and record.created_by == instructor


def test_a_cut_override_rescores_even_with_rescoring_after_calibration_off(
    instructor, candidate, settings, django_capture_on_commit_callbacks
):
    """The setting is about new calibrations; a cut set by hand changes the standard."""
    settings.CCS_RESCORE_AFTER_CALIBRATION = False
    form = scored_form({1: 4}, rating=0.5, program="a")
    attempt = finished_attempt(form, candidate, correct=True)
    services.attempt_score(attempt_id=attempt.pk)
    with django_capture_on_commit_callbacks(execute=True):
        conversion = services.form_cut_override(
            form=form, cut=3.5, reason="Stricter.", by=instructor
        )
    assert conversion.rescore_from == conversion.version == 2
    assert AttemptResult.objects.get(attempt=attempt).conversion_version == 2
    assert ResultHistory.objects.filter(attempt=attempt).count() == 1
