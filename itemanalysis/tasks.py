"""Celery tasks of item analysis: thin, they take ids and call itemanalysis.services."""

from __future__ import annotations

from celery import shared_task

from itemanalysis import services


@shared_task(name="itemanalysis.tasks.run_item_analysis", acks_late=True)
def run_item_analysis(run_id: int) -> str:
    """Run one queued AnalysisRun (a second delivery of the same run does nothing)."""
    return services.analysis_run_execute(run_id=run_id).status


@shared_task(name="itemanalysis.tasks.nightly_item_analysis", acks_late=True)
def nightly_item_analysis() -> list[str]:
    """Beat: classical statistics, the bank-wide calibration, then the pretest items."""
    return [run.status for run in services.analysis_nightly()]


@shared_task(name="itemanalysis.tasks.run_queued", acks_late=True)
def run_queued() -> int:
    """Beat, every 5 minutes: run analyses still queued after their message was lost."""
    return len(services.analysis_runs_resume())
