"""The score report in headless Chromium: a full attempt, then its report."""

from __future__ import annotations

import datetime as dt

import pytest

from exams.models import Attempt, AttemptState, FormItem
from questionbank.models import Option
from scoring import tasks
from scoring.models import AttemptResult
from tests.factories import finished_attempt, scored_form

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def form():
    # Three scored items rated 0.6 by two judges: cut 1.8, table [100, 200, 300, 400].
    return scored_form({1: 2, 2: 1}, pretest=1, rating=0.6, name="Browser mock", allow_review=True)


def key_index(attempt, position) -> int:
    _, _, option_ids = attempt.layout[position - 1]
    keys = set(Option.objects.filter(pk__in=option_ids, is_key=True).values_list("pk", flat=True))
    return next(i for i, pk in enumerate(option_ids) if pk in keys)


def test_sit_an_exam_then_read_its_report(page, live_server, login_in_browser, candidate, form):
    login_in_browser(page, candidate)
    page.goto(f"{live_server.url}/exams/forms/{form.pk}/")
    page.get_by_role("button", name="Start the exam").click()
    page.wait_for_selector("#q-heading")
    attempt = Attempt.objects.get(candidate=candidate)
    pretest = set(FormItem.objects.filter(form=form, is_pretest=True).values_list("pk", flat=True))
    # Right on the pretest item and on two of the three scored items: raw 2 → 300, a pass.
    wrong = next(p for p, row in enumerate(attempt.layout, 1) if row[0] not in pretest)
    total = len(attempt.layout)
    for position in range(1, total + 1):
        page.wait_for_function(
            f"document.getElementById('q-heading').textContent.startsWith('Question {position} ')"
        )
        index = key_index(attempt, position)
        choices = page.locator("input[name=choice]")
        choices.nth((index + 1) % choices.count() if position == wrong else index).click()
        page.wait_for_function(
            "document.getElementById('save-status').textContent.includes('All answers saved')"
        )
        if position < total:
            page.get_by_role("button", name="Save and next").click()
    page.get_by_role("button", name="Save and review").click()
    page.wait_for_selector("#review-heading")
    page.get_by_role("link", name="Submit…").first.click()
    page.get_by_role("button", name="Submit now").click()
    page.wait_for_load_state()
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.SUBMITTED

    # What the worker does on commit of the submit (a no-op if it has already run).
    tasks.score_attempt(attempt.pk)
    page.goto(f"{live_server.url}/scores/attempts/{attempt.pk}/")

    score = page.locator("#scaled-score")
    assert score.is_visible()
    assert score.inner_text() == "300"
    assert page.locator("#outcome").inner_text().startswith("Pass")
    domains = page.get_by_role("img", name="Percent correct per domain")
    assert domains.is_visible()
    trend = page.get_by_role("img", name="Scaled scores of your 1 exam attempt")
    assert trend.is_visible()
    assert "300, passed" in trend.locator("desc").text_content()
    assert page.get_by_role("table", name="Percent correct per domain").is_visible()
    # The answer review is collapsed: a question opens to its rationale.
    assert not page.get_by_text("Rationale:").first.is_visible()
    page.locator(".review-item summary").first.click()
    assert page.get_by_text("Rationale:").first.is_visible()
    assert AttemptResult.objects.get(attempt=attempt).scaled_score == 300


def test_the_printed_report_keeps_the_score_and_charts_and_drops_the_controls(
    page, live_server, login_in_browser, candidate, form
):
    started = dt.datetime(2026, 2, 1, 9, 0, tzinfo=dt.UTC)
    for days, correct in ((0, False), (20, True)):
        attempt = finished_attempt(
            form, candidate, correct=correct, started_at=started + dt.timedelta(days=days)
        )
        tasks.score_attempt(attempt.pk)
    login_in_browser(page, candidate)
    page.goto(f"{live_server.url}/scores/attempts/{attempt.pk}/")
    page.emulate_media(media="print")
    assert page.locator("#scaled-score").inner_text() == "400"
    assert page.get_by_role("img", name="Scaled scores of your 2 exam attempts").is_visible()
    assert not page.get_by_role("button", name="Print").is_visible()
    assert not page.locator(".site-header").is_visible()
