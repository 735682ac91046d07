"""Scoring hears of exam events through exams.signals (connected in ScoringConfig.ready)."""

from __future__ import annotations

from django.db import transaction

from exams.models import ExamForm
from scoring import services, tasks


def score_when_finalised(sender, *, attempt_id: int, **kwargs) -> None:
    # After commit, so the worker never reads the attempt before it is closed.
    transaction.on_commit(lambda: tasks.score_attempt.delay(attempt_id))


def build_conversion_when_publishing(sender, *, form: ExamForm, by=None, **kwargs) -> None:
    services.form_conversion_build(form=form, by=by)
