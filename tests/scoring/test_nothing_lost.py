"""Scores that cannot be lost: a closed attempt is itself the record that it needs scoring,
the broker only hints, and the sweep (beat, or the in-process scheduler without a broker)
scores whatever has no score."""

from __future__ import annotations

import datetime as dt
import logging
import sys

import pytest
from django.db import OperationalError
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from ccs_sim import scheduler
from ccs_sim.errors import DatabaseUnavailableMiddleware
from common import health
from exams import services as exams_services
from exams.models import Attempt, AttemptState
from itemanalysis.models import AnalysisKind, AnalysisRun, RunStatus
from itemanalysis.services import analysis_runs_resume
from scoring import services, tasks
from scoring.models import AttemptResult
from tests.factories import scored_form


def _start(form, user, **kwargs):
    return exams_services.attempt_start(form=form, candidate=user, **kwargs)


@pytest.mark.django_db
def test_a_submit_while_the_broker_is_down_succeeds_and_the_sweep_scores_it(
    candidate, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    form = scored_form({1: 3})
    attempt = _start(form, candidate)

    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("Error 111 connecting to 127.0.0.1:6379")

    monkeypatch.setattr(tasks.score_attempt, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        exams_services.attempt_submit(attempt=attempt)
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.SUBMITTED and attempt.scored_at is None
    assert "the sweep will score it" in caplog.text
    assert list(Attempt.objects.awaiting_score()) == [attempt]

    assert services.attempts_score_pending() == 1
    attempt.refresh_from_db()
    assert attempt.scored_at is not None
    assert not Attempt.objects.awaiting_score().exists()
    # A second sweep finds nothing and changes nothing.
    assert services.attempts_score_pending() == 0
    assert AttemptResult.objects.filter(attempt=attempt).count() == 1


@pytest.mark.django_db
def test_the_sweep_skips_an_attempt_it_cannot_score_and_scores_the_others(
    candidate, other_candidate, monkeypatch, caplog
):
    form = scored_form({1: 2})
    first, second = _start(form, candidate), _start(form, other_candidate)
    for attempt in (first, second):
        Attempt.objects.filter(pk=attempt.pk).update(
            state=AttemptState.SUBMITTED, submitted_at=timezone.now()
        )
    real = services.attempt_score

    def flaky(*, attempt_id):
        if attempt_id == first.pk:
            raise RuntimeError("corrupt layout")
        return real(attempt_id=attempt_id)

    monkeypatch.setattr(services, "attempt_score", flaky)
    assert services.attempts_score_pending() == 1
    assert f"attempt {first.pk} could not be scored" in caplog.text
    assert list(Attempt.objects.awaiting_score()) == [Attempt.objects.get(pk=first.pk)]


@pytest.mark.django_db
def test_in_progress_attempts_are_not_awaiting_a_score(candidate):
    _start(scored_form({1: 2}), candidate)
    assert not Attempt.objects.awaiting_score().exists()
    assert services.attempts_score_pending() == 0


# --- The embedded default runs beat's schedule in the web process -------------------------
@pytest.mark.django_db
def test_the_in_process_beat_finalises_and_scores_an_abandoned_attempt(candidate, settings):
    form = scored_form({1: 2})
    attempt = _start(form, candidate, now=timezone.now() - dt.timedelta(hours=3))
    beat = scheduler.InProcessBeat(settings.CELERY_BEAT_SCHEDULE)
    ran = beat.tick()
    assert {"exams-expire-overdue-attempts", "scoring-score-pending"} <= set(ran)
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.EXPIRED
    # The expiry and the scoring sweep ran in the same tick, expiry first: scored at once.
    assert attempt.scored_at is not None
    assert health.last("sweep") is not None
    # Nothing is due again straight away.
    assert beat.due() == []


@pytest.mark.django_db
def test_the_in_process_beat_keeps_going_when_one_entry_fails(caplog):
    beat = scheduler.InProcessBeat(
        {
            "broken": {"task": "no.such.task", "schedule": 1.0},
            "heartbeat": {"task": "ccs_sim.tasks.heartbeat", "schedule": 1.0},
        }
    )
    assert beat.tick() == ["heartbeat"]
    assert "in-process beat: broken failed" in caplog.text


def test_the_scheduler_starts_only_in_the_serving_process(monkeypatch, settings):
    settings.CCS_INPROCESS_BEAT = True
    monkeypatch.setattr(scheduler, "TICK_SECONDS", 3600.0)
    monkeypatch.setattr(sys, "argv", ["manage.py", "migrate"])
    assert scheduler.start_if_wanted() is False
    # runserver's autoreloader parent only watches files; its child (RUN_MAIN) serves.
    monkeypatch.setattr(sys, "argv", ["manage.py", "runserver", "127.0.0.1:8000"])
    monkeypatch.delenv("RUN_MAIN", raising=False)
    assert scheduler.start_if_wanted() is False
    monkeypatch.setenv("RUN_MAIN", "true")
    try:
        assert scheduler.start_if_wanted() is True
        assert scheduler.running()
    finally:
        scheduler.stop()
        scheduler._thread.join(timeout=5)
    assert not scheduler.running()
    settings.CCS_INPROCESS_BEAT = False
    assert scheduler.start_if_wanted() is False


# --- Item analysis runs whose message was lost --------------------------------------------
@pytest.mark.django_db
def test_a_queued_analysis_whose_message_was_lost_is_run_by_the_beat():
    run = AnalysisRun.objects.create(kind=AnalysisKind.CLASSICAL)
    assert analysis_runs_resume() == []  # just requested: its message may still come
    later = timezone.now() + dt.timedelta(minutes=3)
    resumed = analysis_runs_resume(now=later)
    assert [r.pk for r in resumed] == [run.pk]
    run.refresh_from_db()
    assert run.status in (RunStatus.DONE, RunStatus.FAILED)
    assert analysis_runs_resume(now=later) == []


# --- A database that dropped the connection -----------------------------------------------
def test_a_dropped_database_connection_answers_503_with_retry_after(caplog):
    middleware = DatabaseUnavailableMiddleware(lambda request: None)
    request = RequestFactory().post("/exams/attempts/1/items/1/save/")
    with caplog.at_level(logging.WARNING):
        response = middleware.process_exception(
            request, OperationalError("terminating connection due to administrator command")
        )
    assert response.status_code == 503 and response["Retry-After"] == "2"
    assert "retried" in response.content.decode()
    assert middleware.process_exception(request, ValueError("bug")) is None


# --- Answers the page still held when the attempt closed ----------------------------------
@pytest.mark.django_db
def test_the_result_page_names_the_questions_whose_late_changes_were_not_recorded(
    client, candidate
):
    form = scored_form({1: 3})
    attempt = _start(form, candidate)
    exams_services.attempt_submit(attempt=attempt)
    client.force_login(candidate)
    url = reverse("exams:result", args=[attempt.pk])
    page = client.get(url + "?unsaved=3,1,x,99,1").content.decode()
    assert "question" in page and "1, 3 reached the server after the exam had closed" in page
    assert "99" not in page.split('id="unsaved-answers"')[1].split("</div>")[0]
    assert 'id="unsaved-answers"' not in client.get(url).content.decode()
