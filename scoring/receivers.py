"""Scoring hears of exam events through exams.signals (connected in ScoringConfig.ready)."""

from __future__ import annotations

import logging

from django.db import transaction

from exams.models import ExamForm
from scoring import services, tasks

logger = logging.getLogger(__name__)


def score_when_finalised(sender, *, attempt_id: int, **kwargs) -> None:
    # After commit, so the worker never reads the attempt before it is closed.
    transaction.on_commit(lambda: hint_scoring(attempt_id))


def hint_scoring(attempt_id: int) -> None:
    """Ask a worker to score the attempt now. Only a hint: the closed attempt is already the
    record that it needs scoring, and scoring.tasks.score_pending (beat) scores whatever
    has no score. So a broker that is down costs a short wait, never the request: the
    publish gives up after the broker time-outs in the settings (about a second)."""
    try:
        tasks.score_attempt.apply_async((attempt_id,), retry=False)
    except Exception as exc:  # the broker is down or slow: the sweep will score it
        logger.warning(
            "scoring hint for attempt %s not sent (%s: %s); the sweep will score it",
            attempt_id,
            type(exc).__name__,
            exc,
        )


def build_conversion_when_publishing(sender, *, form: ExamForm, by=None, **kwargs) -> None:
    services.form_conversion_build(form=form, by=by)
