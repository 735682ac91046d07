"""The demo candidate sits a full 107-item CCS form from the sample bank in Chromium."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from exams.models import Attempt, AttemptState, Response

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_form():
    call_command("load_sample_bank", stdout=io.StringIO())
    call_command(
        "assemble_form", "--name", "CCS mock exam A", "--seed", "1", "--publish",
        "--available-to-all", stdout=io.StringIO(),
    )  # fmt: skip


def test_candidate_sits_a_full_107_item_form_and_gets_a_scaled_score(
    page, live_server, login_in_browser, candidate, demo_form
):
    login_in_browser(page, candidate)
    page.goto(f"{live_server.url}/exams/")
    page.get_by_role("link", name="Start…").first.click()
    page.get_by_role("button", name="Start the exam").click()
    page.wait_for_selector("#q-heading")
    assert page.locator("#q-heading").inner_text() == "Question 1 of 107"
    for position in range(1, 108):
        page.wait_for_function(
            f"document.getElementById('q-heading').textContent.startsWith('Question {position} ')"
        )
        choose = int(page.locator("#answer-form").get_attribute("data-choose"))
        for option in range(1, choose + 1):  # keyboard: options by number
            page.keyboard.press(str(option))
        page.keyboard.press("n")  # save and next (save and review on the last)
    page.wait_for_selector("#review-heading")
    page.get_by_role("link", name="Submit…").first.click()
    assert "0 of 107 questions are unanswered" in page.locator("#submit-counts").inner_text()
    page.get_by_role("button", name="Submit now").click()
    page.wait_for_selector("#result-state")
    attempt = Attempt.objects.get(candidate=candidate)
    assert attempt.state == AttemptState.SUBMITTED
    assert Response.objects.filter(attempt=attempt).exclude(selection=[]).count() == 107
    page.get_by_role("link", name="See your score report").click()
    report = page.locator("main").inner_text()
    assert f"{attempt.score.scaled_score}" in report
    assert 100 <= attempt.score.scaled_score <= 400
