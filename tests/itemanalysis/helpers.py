"""Builders shared by the item-analysis tests (tests/scoring/test_stats_*.py)."""

from __future__ import annotations

from exams.models import FormItem
from itemanalysis.models import AnalysisKind, AnalysisRun
from itemanalysis.services import analysis_run_execute
from itemanalysis.simulation import responses_simulate
from tests.factories import draft_form, operational_versions, publish, rate


def pretest_versions(form) -> list[int]:
    return list(
        FormItem.objects.filter(form=form, is_pretest=True)
        .order_by("position")
        .values_list("item_version_id", flat=True)
    )


def analysed_form(*, counts=None, pretest=2, seed=3, name=None, pretest_ratings=(0.6, 0.05)):
    """A published form: operational items rated 0.6; pretest items rated as given (a
    rating of 0.05 makes a very hard item in the simulation)."""
    form = draft_form(counts or {1: 8, 2: 4}, pretest=pretest, seed=seed, name=name)
    rate(operational_versions(form), rating=0.6)
    for version_id, rating in zip(pretest_versions(form), pretest_ratings, strict=False):
        rate([version_id], rating=rating)
    return publish(form)


def simulate(form, candidates=400, seed=11):
    return responses_simulate(form=form, candidates=candidates, seed=seed)


def run(kind: str, form=None) -> AnalysisRun:
    created = AnalysisRun.objects.create(kind=kind, form=form)
    return analysis_run_execute(run_id=created.pk)


def full_pipeline() -> list[AnalysisRun]:
    return [run(k) for k in (AnalysisKind.CLASSICAL, AnalysisKind.RASCH, AnalysisKind.PRETEST)]


def pretest_items_of_program(form, slug: str = "a") -> None:
    """Make the form's pretest items program `slug`'s own: promoting shared items is the
    platform operator's, a program's own items its instructors'."""
    from questionbank.models import Item
    from tests.conftest import program

    Item.objects.filter(versions__in=pretest_versions(form)).update(owner_program=program(slug))
