"""Item analysis on simulated exam attempts: what is stored, idempotence, concurrency."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import connection, connections
from django.db.models import F

from exams.models import Attempt, AttemptMode, FormItem, Response
from itemanalysis import run_requests as analysis_requests
from itemanalysis import services as stats_services
from itemanalysis.models import (
    AnalysisKind,
    AnalysisRun,
    FormStatistic,
    ItemStatistic,
    RunStatus,
)
from psychometrics.items import score_item
from questionbank.models import Option
from scoring.models import ItemCalibration
from tests.conftest import need
from tests.factories import finished_attempt
from tests.itemanalysis.helpers import analysed_form, pretest_versions, run, simulate

pytestmark = pytest.mark.django_db


@pytest.fixture
def form():
    form = analysed_form()
    simulate(form, candidates=400)
    return form


def proportion_correct(form, form_item) -> float:
    keys = set(
        Option.objects.filter(version=form_item.item_version, is_key=True).values_list(
            "pk", flat=True
        )
    )
    attempts = Attempt.objects.filter(form=form, mode=AttemptMode.EXAM)
    scores = [
        score_item("single", keys, r.selection)
        for r in Response.objects.filter(attempt__in=attempts, form_item=form_item)
    ]
    return sum(scores) / attempts.count()


# --- The data generator -------------------------------------------------------------------
def test_simulate_responses_writes_submitted_exam_attempts_and_leaves_practice_alone(
    candidate, capsys
):
    form = analysed_form()
    practice = finished_attempt(form, candidate, correct=False, mode=AttemptMode.PRACTICE)
    call_command("simulate_responses", form=str(form.pk), candidates=30, seed=5)
    out = capsys.readouterr().out
    assert "30/30 attempts written" in out and "30 submitted exam attempts" in out
    exams = Attempt.objects.filter(form=form, mode=AttemptMode.EXAM)
    assert exams.count() == 30
    assert set(exams.values_list("state", flat=True)) == {"submitted"}
    assert Response.objects.filter(attempt__in=exams).count() == 30 * form.items.count()
    assert Attempt.objects.filter(mode=AttemptMode.PRACTICE).get() == practice
    # Wrong answers pick distractors, so every item's distractors get chosen.
    chosen = {
        tuple(s)
        for s in Response.objects.filter(attempt__in=exams).values_list("selection", flat=True)
    }
    assert len(chosen) > form.items.count()


def test_simulation_is_reproducible_from_its_seed():
    form = analysed_form()
    simulate(form, candidates=20, seed=9)
    first = list(
        Response.objects.filter(attempt__form=form)
        .order_by("attempt__candidate__username", "form_item_id")
        .values_list("selection", flat=True)
    )
    Response.objects.all().delete()
    Attempt.objects.all().delete()
    simulate(form, candidates=20, seed=9)
    again = list(
        Response.objects.filter(attempt__form=form)
        .order_by("attempt__candidate__username", "form_item_id")
        .values_list("selection", flat=True)
    )
    assert first == again


# --- Classical statistics -----------------------------------------------------------------
def test_classical_statistics_are_stored_per_item_with_time_and_responses(form):
    result = run(AnalysisKind.CLASSICAL)
    assert result.status == RunStatus.DONE, result.message
    assert result.progress == 100 and result.finished_at is not None
    rows = ItemStatistic.objects.filter(kind=AnalysisKind.CLASSICAL, form=form)
    assert rows.count() == form.items.count() == 14
    for row in rows:
        assert row.n_responses == 400 and row.computed_at is not None
        assert row.run_id == result.pk
    one = FormItem.objects.filter(form=form, is_pretest=False).order_by("position").first()
    stored = rows.get(item_version=one.item_version)
    assert stored.p == pytest.approx(proportion_correct(form, one))
    assert stored.key == "B"  # the factories key option B
    assert sum(stored.option_rates_all.values()) == pytest.approx(1.0)
    assert stored.option_rates_upper["B"] > stored.option_rates_lower["B"]
    assert stored.item_rest > 0.1 and stored.point_biserial > stored.item_rest

    statistic = FormStatistic.objects.get(form=form)
    assert statistic.n_attempts == 400 and statistic.n_items == 12
    assert sum(statistic.score_distribution["counts"]) == 400
    assert len(statistic.score_distribution["counts"]) == 13
    assert 0 < statistic.kr20 < 1
    assert statistic.sem == pytest.approx(statistic.sd * np.sqrt(1 - statistic.kr20))


def test_pretest_items_are_analysed_against_the_operational_score(form):
    run(AnalysisKind.CLASSICAL)
    hard_version = pretest_versions(form)[1]  # rated 0.05: very hard in the simulation
    hard = ItemStatistic.objects.get(kind=AnalysisKind.CLASSICAL, item_version_id=hard_version)
    assert hard.is_pretest and hard.p < 0.25
    assert hard.has_flag("too_hard")
    assert any(f["code"] == "too_hard" and "fewer than 0.25" in f["message"] for f in hard.flags)


def test_practice_attempts_are_excluded(form, candidate):
    for _ in range(3):
        finished_attempt(form, candidate, correct=False, mode=AttemptMode.PRACTICE)
    in_progress = finished_attempt(form, candidate, correct=False)
    Attempt.objects.filter(pk=in_progress.pk).update(state="in_progress")
    run(AnalysisKind.CLASSICAL)
    assert set(ItemStatistic.objects.values_list("n_responses", flat=True)) == {400}
    assert FormStatistic.objects.get().n_attempts == 400


def test_attempts_without_any_stored_answer_are_left_out(form, candidate):
    # Blank submissions, and results stored without their answers (generated demo data):
    # as rows of zeros they would make every item look harder.
    for _ in range(5):
        finished_attempt(form, candidate, correct=None)
    assert not Response.objects.filter(attempt__candidate=candidate).exists()
    run(AnalysisKind.CLASSICAL)
    assert set(ItemStatistic.objects.values_list("n_responses", flat=True)) == {400}
    assert FormStatistic.objects.get().n_attempts == 400


def test_a_form_can_be_analysed_alone(form):
    other = analysed_form(seed=4, name="Other form")
    simulate(other, candidates=30, seed=2)
    run(AnalysisKind.CLASSICAL, form=other)
    assert set(ItemStatistic.objects.values_list("form", flat=True)) == {other.pk}


def test_running_twice_on_the_same_responses_stores_the_same_rows_once(form):
    run(AnalysisKind.CLASSICAL)
    run(AnalysisKind.RASCH)
    run(AnalysisKind.PRETEST)

    def snapshot():
        fields = ["kind", "form_id", "item_version_id", "n_responses", "p", "item_rest"]
        fields += ["difficulty", "se", "infit", "outfit", "flags", "option_rates_upper"]
        return (
            sorted(ItemStatistic.objects.values_list(*fields), key=repr),
            sorted(FormStatistic.objects.values_list("form_id", "n_attempts", "kr20", "sem")),
            sorted(ItemCalibration.objects.values_list("item_version_id", "difficulty", "method")),
        )

    before = snapshot()
    second = [run(k) for k in (AnalysisKind.CLASSICAL, AnalysisKind.RASCH, AnalysisKind.PRETEST)]
    assert [r.status for r in second] == ["done"] * 3
    assert second[0].summary["replaced"] == 14
    after = snapshot()
    assert len(after[0]) == len(before[0]) and after == before


def test_new_responses_add_to_the_history_instead_of_replacing_it(form):
    run(AnalysisKind.CLASSICAL)
    simulate(form, candidates=10, seed=99)
    run(AnalysisKind.CLASSICAL)
    assert FormStatistic.objects.count() == 2
    assert sorted(set(ItemStatistic.objects.values_list("n_responses", flat=True))) == [400, 410]


def test_a_run_delivered_twice_by_the_broker_runs_once(form):
    first = run(AnalysisKind.CLASSICAL)
    again = stats_services.analysis_run_execute(run_id=first.pk)
    assert again.status == RunStatus.DONE
    assert ItemStatistic.objects.count() == 14


def test_a_failure_is_recorded_on_the_run(form, monkeypatch):
    def boom(run, progress):
        raise ValueError("the design is not connected")

    monkeypatch.setitem(stats_services.RUNNERS, AnalysisKind.RASCH, boom)
    result = run(AnalysisKind.RASCH)
    assert result.status == RunStatus.FAILED
    assert "not connected" in result.message


# --- Rasch calibration and the anchored pretest calibration -----------------------------------
def test_bank_calibration_stores_operational_difficulties_on_a_centred_scale(form):
    result = run(AnalysisKind.RASCH)
    assert result.status == RunStatus.DONE, result.message
    operational = FormItem.objects.filter(form=form, is_pretest=False)
    calibrations = ItemCalibration.objects.filter(
        item_version__in=operational.values("item_version")
    )
    assert calibrations.count() == 12
    assert {c.method for c in calibrations} == {"cml"}
    assert {c.n_responses for c in calibrations} == {400}
    assert np.mean([c.difficulty for c in calibrations]) == pytest.approx(0, abs=1e-6)
    assert not ItemCalibration.objects.filter(item_version_id__in=pretest_versions(form)).exists()
    rows = ItemStatistic.objects.filter(kind=AnalysisKind.RASCH, form__isnull=True)
    assert rows.count() == 12
    # Harder items (higher b) are answered correctly less often.
    pairs = sorted((r.difficulty, r.p) for r in rows)
    assert np.corrcoef([b for b, _ in pairs], [p for _, p in pairs])[0, 1] < -0.9
    assert all(0.7 < r.infit < 1.3 for r in rows)


def test_recalibration_keeps_the_bank_scale_of_items_calibrated_before(form):
    run(AnalysisKind.RASCH)
    first = dict(ItemCalibration.objects.values_list("item_version_id", "difficulty"))
    # The bank's scale had been set one logit higher (an earlier base form, say).
    ItemCalibration.objects.update(difficulty=F("difficulty") + 1.0)
    result = run(AnalysisKind.RASCH)
    again = dict(ItemCalibration.objects.values_list("item_version_id", "difficulty"))
    assert again == pytest.approx({v: b + 1.0 for v, b in first.items()})
    assert result.summary["origin"] is None  # the earlier calibration set the scale
    (link,) = result.summary["links"]
    assert link["shift"] == pytest.approx(1.0) and link["drifting"] == []


def test_pretest_items_are_calibrated_with_operational_items_as_anchors(form):
    run(AnalysisKind.RASCH)
    anchors_before = dict(ItemCalibration.objects.values_list("item_version_id", "difficulty"))
    result = run(AnalysisKind.PRETEST)
    assert result.status == RunStatus.DONE, result.message
    assert result.summary["anchors"] == 12 and result.summary["calibrated"] == 2
    easy, hard = pretest_versions(form)
    calibrations = {c.item_version_id: c for c in ItemCalibration.objects.filter(method="anchored")}
    assert set(calibrations) == {easy, hard}
    assert calibrations[hard].difficulty > calibrations[easy].difficulty + 1.5
    # The anchors did not move.
    for version_id, b in anchors_before.items():
        assert ItemCalibration.objects.get(item_version_id=version_id).difficulty == b
    stat = ItemStatistic.objects.get(kind=AnalysisKind.PRETEST, item_version_id=easy)
    assert stat.form is None and stat.n_responses == 400 and stat.is_pretest
    assert stat.difficulty == pytest.approx(calibrations[easy].difficulty)
    assert stat.p is not None and stat.item_rest is not None and stat.option_rates_lower


def test_pretest_calibration_without_anchors_says_to_calibrate_first(form):
    result = run(AnalysisKind.PRETEST)
    assert result.status == RunStatus.DONE
    assert "run the Rasch calibration first" in result.message
    assert not ItemCalibration.objects.exists()


def test_nightly_task_runs_all_three_in_order(form):
    from itemanalysis.tasks import nightly_item_analysis

    assert nightly_item_analysis() == ["done", "done", "done"]
    kinds = list(AnalysisRun.objects.order_by("pk").values_list("kind", flat=True))
    assert kinds == ["classical", "rasch", "pretest_anchor"]
    assert ItemCalibration.objects.filter(method="anchored").count() == 2


def test_beat_schedules_the_nightly_analysis():
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["itemanalysis-nightly-item-analysis"]
    assert entry["task"] == "itemanalysis.tasks.nightly_item_analysis"


# --- Requests and permissions ---------------------------------------------------------------
def test_instructor_requests_a_run_which_is_queued_after_commit(
    form, instructor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        requested = analysis_requests.analysis_request(kind=AnalysisKind.CLASSICAL, by=instructor)
    requested.refresh_from_db()
    assert requested.status == RunStatus.DONE and requested.requested_by == instructor
    assert requested.task_id


def test_a_second_request_while_one_is_queued_returns_the_same_run(admin_user):
    first = analysis_requests.analysis_request(kind=AnalysisKind.RASCH, by=admin_user)
    second = analysis_requests.analysis_request(kind=AnalysisKind.RASCH, by=admin_user)
    assert first.pk == second.pk and AnalysisRun.objects.count() == 1


@pytest.mark.parametrize("kind", [AnalysisKind.RASCH, AnalysisKind.PRETEST])
def test_a_programs_instructor_cannot_recalibrate_the_bank_for_every_program(instructor, kind):
    # A calibration re-equates the shared forms and may rescore other programs' results.
    with pytest.raises(PermissionDenied, match="platform operator"):
        analysis_requests.analysis_request(kind=kind, by=instructor)
    assert not AnalysisRun.objects.exists()
    # Classical statistics stay theirs; the scheduler (by None) still calibrates nightly.
    assert analysis_requests.analysis_request(kind=AnalysisKind.CLASSICAL, by=instructor)
    assert analysis_requests.analysis_request(kind=kind, by=None).requested_by is None


@pytest.mark.parametrize("who", ["candidate", "manager"])
def test_candidates_and_managers_cannot_run_analysis(request, who):
    user = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied):
        analysis_requests.analysis_request(kind=AnalysisKind.CLASSICAL, by=user)
    assert not AnalysisRun.objects.exists()


def test_a_run_for_one_form_is_classical_only(form, instructor):
    with pytest.raises(ValidationError):
        analysis_requests.analysis_request(kind=AnalysisKind.RASCH, form=form, by=instructor)


# --- Concurrency ------------------------------------------------------------------------------
def test_a_second_claim_while_one_runs_is_skipped(form):
    running = AnalysisRun.objects.create(kind=AnalysisKind.CLASSICAL, status=RunStatus.RUNNING)
    from django.utils import timezone

    AnalysisRun.objects.filter(pk=running.pk).update(started_at=timezone.now())
    result = run(AnalysisKind.CLASSICAL)
    assert result.status == RunStatus.SKIPPED
    assert f"#{running.pk}" in result.message
    assert not ItemStatistic.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_workers_running_the_same_analysis_at_once_store_one_result_set():
    need(
        None
        if connection.vendor == "postgresql"
        else "needs PostgreSQL (row locks and a partial unique index under real concurrency)"
    )
    form = analysed_form()
    simulate(form, candidates=150)
    runs = [AnalysisRun.objects.create(kind=AnalysisKind.CLASSICAL) for _ in range(2)]
    barrier = threading.Barrier(2)
    errors = []

    def work(run_id):
        try:
            barrier.wait()
            stats_services.analysis_run_execute(run_id=run_id)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(r.pk,)) for r in runs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    statuses = sorted(AnalysisRun.objects.values_list("status", flat=True))
    assert statuses in (["done", "skipped"], ["done", "done"])
    assert ItemStatistic.objects.filter(form=form).count() == form.items.count()
    assert FormStatistic.objects.filter(form=form).count() == 1
