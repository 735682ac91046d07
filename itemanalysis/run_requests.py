"""Requests for analysis runs: the run is recorded, then a worker is asked to do it.

Apart from itemanalysis.services (which runs analyses, and which the tasks call) so that
the services never import the tasks that import them. A run whose message is lost stays
queued and the beat runs it (services.analysis_runs_resume).
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from exams.models import ExamForm, FormKind
from itemanalysis import tasks
from itemanalysis.models import AnalysisKind, AnalysisRun

logger = logging.getLogger(__name__)


# Runs over the whole bank's scale: their calibrations and re-equated tables reach every
# program's forms and results, so no one program's staff start them.
BANK_CALIBRATIONS = frozenset({AnalysisKind.RASCH, AnalysisKind.PRETEST})


def _may_run(user) -> bool:
    return user is not None and user.has_perm("itemanalysis.add_analysisrun")


def analysis_request(*, kind: str, by=None, form: ExamForm | None = None) -> AnalysisRun:
    """Queue an analysis (by None = the scheduler). Returns the run already queued or
    running for the same kind and form instead of queueing a second one."""
    if by is not None and not _may_run(by):
        raise PermissionDenied("You do not have permission to run item analysis.")
    if kind not in AnalysisKind.values:
        raise ValidationError(f"Unknown analysis {kind!r}.")
    if form is not None and kind != AnalysisKind.CLASSICAL:
        raise ValidationError("Only the classical statistics are computed for one form.")
    if form is not None and form.kind != FormKind.EXAM:
        raise ValidationError("Practice sets are not analysed.")
    if by is not None and kind in BANK_CALIBRATIONS and not by.is_superuser:
        raise PermissionDenied(
            "A calibration puts the whole bank on its scale: it re-equates the shared forms "
            "and may rescore every program's results, so the platform operator requests it "
            "(the nightly schedule runs it too). Classical statistics are yours to run."
        )
    with transaction.atomic():
        existing = AnalysisRun.objects.active().filter(kind=kind, form=form).first()
        if existing is not None:
            return existing
        run = AnalysisRun.objects.create(kind=kind, form=form, requested_by=by)
        transaction.on_commit(lambda: _queue(run.pk))
    return run


def _queue(run_id: int) -> None:
    # Only a hint, like scoring's: a run whose message is lost stays queued and the beat
    # runs it (analysis_runs_resume), so a broker outage never fails the request.
    try:
        result = tasks.run_item_analysis.apply_async((run_id,), retry=False)
    except Exception as exc:
        logger.warning("analysis run %s not sent (%s); the beat will run it", run_id, exc)
        return
    AnalysisRun.objects.filter(pk=run_id, task_id="").update(task_id=str(result.id or ""))
