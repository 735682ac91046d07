"""The instructor's admin for item analysis: item list columns and filters, item page,
form report, runs with progress, the promotion action; and who may use them."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from itemanalysis.models import AnalysisKind, AnalysisRun, PretestPromotion, RunStatus
from questionbank.models import ItemStatus, ItemVersion
from tests.itemanalysis.helpers import (
    analysed_form,
    full_pipeline,
    pretest_items_of_program,
    pretest_versions,
    simulate,
)

pytestmark = pytest.mark.django_db

ITEMS = "/admin/questionbank/itemversion/"


@pytest.fixture
def analysed():
    form = analysed_form()
    simulate(form, candidates=300)
    pretest_items_of_program(form)
    full_pipeline()
    return form


def test_item_list_shows_latest_statistics_and_filters_by_flag(client, instructor, analysed):
    client.force_login(instructor)
    page = client.get(ITEMS)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Item-rest" in html and "B (logits)" in html and "statistics flag" in html
    hard = ItemVersion.objects.get(pk=pretest_versions(analysed)[1])
    flagged = client.get(ITEMS, {"flag": "too_hard"})
    assert list(flagged.context["cl"].result_list) == [hard]
    assert hard in client.get(ITEMS, {"flag": "any"}).context["cl"].result_list
    clean = client.get(ITEMS, {"flag": "none"}).context["cl"].result_list
    assert hard not in clean and len(clean) > 0


def test_item_list_statistics_cost_no_query_per_row(client, instructor):
    client.force_login(instructor)
    small = analysed_form(counts={1: 3}, pretest=1, seed=1, name="Small")
    simulate(small, candidates=20)
    full_pipeline()
    with CaptureQueriesContext(connection) as few:
        assert client.get(ITEMS).status_code == 200
    big = analysed_form(counts={1: 8, 2: 6}, pretest=2, seed=2, name="Big")
    simulate(big, candidates=20, seed=3)
    full_pipeline()
    with CaptureQueriesContext(connection) as many:
        assert client.get(ITEMS).status_code == 200
    assert len(many) == len(few)


def test_item_page_has_history_and_distractor_table(client, instructor, analysed):
    client.force_login(instructor)
    version = ItemVersion.objects.get(pk=pretest_versions(analysed)[1])
    page = client.get(f"{ITEMS}{version.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Item statistics" in html and "Upper 27%" in html and "(key)" in html
    assert "History" in html and "Anchored calibration of pretest items" in html
    assert "cannot be promoted yet" in html and "Too hard" in html


def test_promote_action_refuses_with_reasons_and_promotes_a_clean_item(
    client, instructor, analysed
):
    client.force_login(instructor)
    clean, hard = pretest_versions(analysed)
    response = client.post(
        ITEMS,
        {"action": "promote_pretest_items", "_selected_action": [clean, hard]},
        follow=True,
    )
    assert response.status_code == 200
    messages = [str(m) for m in response.context["messages"]]
    assert any("is operational, with b =" in m for m in messages)
    refused = next(m for m in messages if "not promoted" in m)
    assert "Too hard" in refused and "<li>" in refused
    assert ItemVersion.objects.get(pk=clean).status == ItemStatus.OPERATIONAL
    assert ItemVersion.objects.get(pk=hard).status == ItemStatus.PRETEST
    assert PretestPromotion.objects.count() == 1
    # Its record names the instructor without linking to the user admin (403 for them).
    promotion = PretestPromotion.objects.get()
    page = client.get(reverse("admin:itemanalysis_pretestpromotion_change", args=[promotion.pk]))
    assert page.status_code == 200
    assert "/admin/auth/user/" not in page.content.decode()
    assert instructor.get_username() in page.content.decode()


def test_form_report_has_histogram_table_and_reliability(client, instructor, analysed):
    client.force_login(instructor)
    page = client.get(reverse("admin:itemanalysis_formstatistic_report", args=[analysed.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert '<svg class="stats-histogram" role="img"' in html
    assert "The same figures as a table" in html
    assert "KR-20" in html and "SEM" in html and "Items that lower reliability most" in html
    assert "<strong>300</strong> finished exam attempts" in html


def test_instructor_runs_an_analysis_and_follows_its_progress(
    client, instructor, analysed, django_capture_on_commit_callbacks
):
    client.force_login(instructor)
    assert client.get(reverse("admin:itemanalysis_analysisrun_request")).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:itemanalysis_analysisrun_request"),
            {"kind": "classical", "form": analysed.pk},
        )
    run = AnalysisRun.objects.filter(requested_by=instructor).get()
    assert response.status_code == 302
    assert response.url == reverse("admin:itemanalysis_analysisrun_change", args=[run.pk])
    page = client.get(response.url)
    assert page.status_code == 200
    assert "Done" in page.content.decode() and "Form report" in page.content.decode()
    assert client.get(reverse("admin:itemanalysis_analysisrun_changelist")).status_code == 200


def test_a_run_in_progress_polls_for_its_progress(client, instructor):
    client.force_login(instructor)
    run = AnalysisRun.objects.create(kind=AnalysisKind.RASCH, status=RunStatus.RUNNING, progress=40)
    page = client.get(reverse("admin:itemanalysis_analysisrun_change", args=[run.pk]))
    html = page.content.decode()
    progress_url = reverse("admin:itemanalysis_analysisrun_progress", args=[run.pk])
    assert f'hx-get="{progress_url}"' in html and 'hx-trigger="every 2s"' in html
    assert 'value="40"' in html
    partial = client.get(progress_url)
    assert partial.status_code == 200 and b"<html" not in partial.content


@pytest.mark.parametrize("who", ["candidate", "manager"])
def test_candidates_and_managers_cannot_run_analysis_from_the_admin(client, request, who):
    user = request.getfixturevalue(who)
    client.force_login(user)
    url = reverse("admin:itemanalysis_analysisrun_request")
    assert client.get(url).status_code in (302, 403)
    assert client.post(url, {"kind": "rasch"}).status_code in (302, 403)
    user.is_staff = True  # even with admin access the permission is missing
    user.save()
    assert client.post(url, {"kind": "rasch"}).status_code == 403
    assert not AnalysisRun.objects.exists()


def test_a_staff_manager_cannot_promote(client, manager, analysed):
    manager.is_staff = True
    manager.save()
    client.force_login(manager)
    clean = pretest_versions(analysed)[0]
    client.post(ITEMS, {"action": "promote_pretest_items", "_selected_action": [clean]})
    assert ItemVersion.objects.get(pk=clean).status == ItemStatus.PRETEST
    assert not PretestPromotion.objects.exists()


def test_distractor_table_of_a_multiple_response_item_shows_each_option():
    from types import SimpleNamespace

    from itemanalysis.selectors import distractor_table
    from tests.factories import ItemVersionFactory

    version = ItemVersionFactory(
        kind="multiple",
        choose=2,
        options=[("A", True), ("B", False), ("C", True), ("D", False)],
    )
    statistic = SimpleNamespace(
        key="A+C",
        option_rates_upper={"A+C": 0.8, "A+B": 0.2},
        option_rates_lower={"A+C": 0.3, "B+D": 0.5, "A+B": 0.2},
        option_rates_all={"A+C": 0.5, "B+D": 0.3, "A+B": 0.2},
    )
    rows = {r.label: r for r in distractor_table(version=version, statistic=statistic)}
    assert list(rows) == ["A", "B", "C", "D"]
    assert rows["A"].is_key and rows["C"].is_key and not rows["B"].is_key
    assert rows["A"].upper == pytest.approx(1.0) and rows["A"].lower == pytest.approx(0.5)
    assert rows["B"].all == pytest.approx(0.5) and rows["D"].lower == pytest.approx(0.5)
    assert not rows["B"].flagged


def test_the_admin_offers_an_instructor_classical_statistics_only(client, instructor):
    client.force_login(instructor)
    url = reverse("admin:itemanalysis_analysisrun_request")
    page = client.get(url).content.decode()
    assert 'value="classical"' in page and 'value="rasch"' not in page
    assert "the platform operator runs them" in page
    refused = client.post(url, {"kind": "rasch"})
    assert refused.status_code == 200 and "Select a valid choice" in refused.content.decode()
    assert not AnalysisRun.objects.exists()
