"""Lifecycle events are logged with their ids (JSON lines in production), and a refusal
that no view catches still reaches the person as its own message and status."""

from __future__ import annotations

import json
import logging

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory

from ccs_sim.errors import ApplicationErrorMiddleware
from common.errors import ApplicationError
from common.lifecycle import JsonLinesFormatter, KeyValueFormatter, log_event, timed_event
from exams import services as exams_services
from exams.models import AttemptState
from exams.services import AttemptClosed
from scoring.services import AttemptNotFinished
from tests.factories import scored_form


def _record(event: str, **fields) -> logging.LogRecord:
    return logging.makeLogRecord({"msg": event, "levelno": 20, "levelname": "INFO",
                                  "name": "ccs.lifecycle", "event": event, **fields})  # fmt: skip


def test_json_lines_carry_the_event_and_its_fields():
    line = JsonLinesFormatter().format(_record("attempt.scored", attempt_id=7, duration_ms=3.5))
    data = json.loads(line)
    assert "\n" not in line
    assert data["message"] == "attempt.scored" and data["level"] == "INFO"
    assert data["attempt_id"] == 7 and data["duration_ms"] == 3.5
    assert data["ts"].endswith("Z")


def test_key_value_lines_for_development():
    line = KeyValueFormatter().format(_record("form.published", form_id=3, items=107))
    assert line == "INFO ccs.lifecycle form.published form_id=3 items=107"


def test_timed_event_logs_duration_and_a_failure_as_a_warning(caplog):
    caplog.set_level(logging.INFO, logger="ccs.lifecycle")
    with timed_event("analysis.run", run_id=1) as fields:
        fields["kind"] = "rasch"
    with pytest.raises(ValueError), timed_event("analysis.run", run_id=2):
        raise ValueError("boom")
    ok, failed = caplog.records
    assert (ok.levelname, ok.run_id, ok.kind) == ("INFO", 1, "rasch") and ok.duration_ms >= 0
    assert (failed.levelname, failed.run_id, failed.outcome) == ("WARNING", 2, "failed")
    assert failed.error == "ValueError"


@pytest.mark.django_db
def test_an_attempt_is_logged_when_started_finalised_and_scored(
    caplog, candidate, django_capture_on_commit_callbacks
):
    caplog.set_level(logging.INFO, logger="ccs.lifecycle")
    form = scored_form({1: 3})
    attempt = exams_services.attempt_start(form=form, candidate=candidate)
    # Scoring hears of the submit through exams.signals and is queued after commit.
    with django_capture_on_commit_callbacks(execute=True):
        exams_services.attempt_submit(attempt=attempt)
    events = {r.event: r for r in caplog.records if hasattr(r, "event")}
    assert events["attempt.started"].attempt_id == attempt.pk
    assert events["attempt.started"].form_id == form.pk
    assert events["attempt.finalised"].state == AttemptState.SUBMITTED
    scored = events["attempt.scored"]
    assert scored.attempt_id == attempt.pk and scored.duration_ms >= 0
    assert scored.scaled_score is not None


def test_log_event_names_the_event(caplog):
    caplog.set_level(logging.INFO, logger="ccs.lifecycle")
    log_event("bank.import_applied", items_created=2)
    assert caplog.records[-1].event == "bank.import_applied"
    assert caplog.records[-1].items_created == 2


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (AttemptClosed("This attempt has ended.", attempt_id=1), 409),
        (AttemptNotFinished("Attempt 1 is still in progress."), 409),
        (ApplicationError("Something you can fix."), 400),
    ],
)
@pytest.mark.django_db
def test_a_refusal_no_view_caught_is_answered_with_its_message(error, status, rf: RequestFactory):
    middleware = ApplicationErrorMiddleware(lambda request: None)
    request = rf.get("/somewhere/")
    request.user = AnonymousUser()
    response = middleware.process_exception(request, error)
    assert response.status_code == status
    assert str(error) in response.content.decode()


def test_other_exceptions_are_left_to_django(rf: RequestFactory):
    middleware = ApplicationErrorMiddleware(lambda request: None)
    assert middleware.process_exception(rf.get("/"), RuntimeError("bug")) is None
