"""What only a browser shows: sitting a form in headless Chromium."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from exams.models import Attempt, AttemptState, Response
from tests.factories import bank_items, published_form

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

SAVED = "All answers saved"


@pytest.fixture
def short_form():
    bank_items(1, 2)
    bank_items(1, 1, kind="multiple", choose=2, options=[
        ("A", True), ("B", True), ("C", False), ("D", False), ("E", False)
    ])  # fmt: skip
    return published_form({1: 3}, pretest=1, minutes=60, name="Short form")


def start(page, live_server, short_form):
    page.goto(f"{live_server.url}/exams/")
    page.get_by_role("link", name="Start…").click()
    page.get_by_role("button", name="Start the exam").click()
    page.wait_for_selector("#q-heading")
    wait_ready(page)
    return Attempt.objects.get()


def wait_ready(page):
    """The page holds the attempt's payload and moves by itself from now on."""
    page.wait_for_selector("#exam[data-offline=ready]", state="attached")


def wait_saved(page):
    page.wait_for_function(
        "document.getElementById('save-status').textContent.includes('All answers saved')"
    )


def go_to(page, position):
    page.click(f"#nav-{position}")
    page.wait_for_function(
        f"document.getElementById('q-heading').textContent.startsWith('Question {position} ')"
    )


def test_sit_a_short_form_end_to_end(page, live_server, login_in_browser, candidate, short_form):
    login_in_browser(page, candidate)
    attempt = start(page, live_server, short_form)
    page.wait_for_function(
        "/^(01:00:00|00:59:5\\d)$/.test(document.getElementById('timer').textContent)"
    )
    multiple = next(i for i, row in enumerate(attempt.layout, 1) if row[1] == 2)
    skip = 3 if multiple != 3 else 4
    for position in range(1, 5):
        heading = page.locator("#q-heading")
        assert heading.inner_text() == f"Question {position} of 4"
        # Focus moves to the question after each swap.
        if position > 1:
            page.wait_for_function("document.activeElement.id === 'q-heading'")
        choices = page.locator("input[name=choice]")
        if position == multiple:
            choices.nth(0).click()
            choices.nth(1).click()
            choices.nth(2).click()  # a third pick on "Choose 2" is refused with a message
            assert "Choose 2" in page.locator("#choose-msg").inner_text()
            assert not choices.nth(2).is_checked()
        elif position == 2 and multiple != 2:
            page.keyboard.press("2")  # shortcut: option B
            assert choices.nth(1).is_checked()
        elif position != skip:
            choices.nth(0).click()
        if position == 2:
            page.keyboard.press("f")  # shortcut: flag
            assert page.locator("input[name=flagged]").is_checked()
        wait_saved(page)
        if position < 4:
            page.get_by_role("button", name="Save and next").click()
            page.wait_for_function(
                f"document.getElementById('q-heading').textContent.startsWith("
                f"'Question {position + 1} ')"
            )
    # The navigator shows answered and flagged, and moves freely.
    assert "flagged" in page.locator("#nav-2").get_attribute("class")
    assert "answered" not in page.locator(f"#nav-{skip}").get_attribute("class")
    go_to(page, 1)
    assert page.locator("input[name=choice]:checked").count() >= 1
    page.keyboard.press("r")
    page.wait_for_selector("#review-heading")
    page.get_by_role("link", name="Flagged", exact=True).click()
    page.wait_for_function("document.getElementById('review-list').dataset.show === 'flagged'")
    assert page.locator("#review-list li").count() == 1
    assert "Question 2" in page.locator("#review-list").inner_text()
    page.get_by_role("link", name="Unanswered", exact=True).click()
    page.wait_for_function("document.getElementById('review-list').dataset.show === 'unanswered'")
    assert page.locator("#review-list li").count() == 1
    page.get_by_role("link", name="Submit…").first.click()
    counts = page.locator("#submit-counts").inner_text()
    assert re.search(r"1 of 4 questions are unanswered and 1 is flagged", counts)
    page.get_by_role("button", name="Submit now").click()
    page.wait_for_selector("#result-state")
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.SUBMITTED
    assert Response.objects.filter(attempt=attempt).exclude(selection=[]).count() == 3
    assert Response.objects.get(attempt=attempt, flagged=True)


def test_close_and_reopen_mid_exam_finds_every_answer(
    page, browser, live_server, login_in_browser, candidate, short_form
):
    login_in_browser(page, candidate)
    attempt = start(page, live_server, short_form)
    for position in (1, 2, 3):
        go_to(page, position)
        page.locator("input[name=choice]").nth(1).click()
        wait_saved(page)
    context = page.context
    page.close()
    again = context.new_page()
    again.goto(f"{live_server.url}/exams/")
    again.get_by_role("link", name="Resume").first.click()
    # Moves are kept by the browser: the page goes on to the item it showed last.
    again.wait_for_function(
        "document.getElementById('q-heading').textContent.startsWith('Question 3 ')"
    )
    assert again.url.endswith(f"/attempts/{attempt.pk}/items/3/")
    for position in (1, 2, 3):
        go_to(again, position)
        assert again.locator("input[name=choice]").nth(1).is_checked()
    assert Response.objects.filter(attempt=attempt).count() == 3


def test_answers_given_while_offline_arrive_when_the_network_returns(
    page, live_server, login_in_browser, candidate, short_form
):
    login_in_browser(page, candidate)
    attempt = start(page, live_server, short_form)
    page.context.set_offline(True)
    choices = page.locator("input[name=choice]")
    choices.nth(0).click()
    # The browser knows it is offline: nothing is tried until it is back; the status says
    # what waits.
    page.wait_for_function(
        "document.getElementById('save-status').textContent"
        ".includes('Offline: 1 answer waits to be sent')"
    )
    choices.nth(1).click()
    if attempt.layout[0][1] == 1:
        assert choices.nth(1).is_checked()
    page.locator("input[name=flagged]").click()
    assert not Response.objects.filter(attempt=attempt).exists()
    page.context.set_offline(False)
    wait_saved(page)
    response = Response.objects.get(attempt=attempt)
    option_ids = attempt.layout[0][2]
    expected = [option_ids[1]] if attempt.layout[0][1] == 1 else [option_ids[0], option_ids[1]]
    assert response.selection == expected
    assert response.flagged
    # And the next question still works after the outage.
    page.get_by_role("button", name="Save and next").click()
    page.wait_for_function(
        "document.getElementById('q-heading').textContent.startsWith('Question 2 ')"
    )


def test_the_clock_running_out_submits_the_attempt(page, live_server, login_in_browser, candidate):
    form = published_form({1: 2}, minutes=1, name="One minute")
    login_in_browser(page, candidate)
    attempt = start(page, live_server, form)
    # One minute left on a one-minute form: the 30- and 5-minute marks passed before it
    # began, so neither is announced as if it were news.
    page.locator("input[name=choice]").nth(0).click()
    wait_saved(page)
    Attempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() + dt.timedelta(seconds=5))
    page.reload()
    page.wait_for_selector("#q-heading")
    page.wait_for_timeout(500)
    assert page.locator("#announcer").text_content() == ""
    page.wait_for_selector("#result-state", timeout=15_000)
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.EXPIRED
    assert Response.objects.filter(attempt=attempt).count() == 1


def block_saves(page):
    """Saves fail as on a dead connection, while pages still load."""
    page.route("**/save/", lambda route: route.abort())


def test_leaving_for_submit_waits_for_queued_answers(
    page, live_server, login_in_browser, candidate, short_form
):
    login_in_browser(page, candidate)
    attempt = start(page, live_server, short_form)
    block_saves(page)
    page.locator("input[name=choice]").nth(0).click()
    page.locator(".exam-bar").get_by_role("link", name="Submit…").click()
    page.wait_for_timeout(1500)
    # Still on the question: the answer has not reached the server, so the counts would be wrong.
    assert page.locator("#q-heading").inner_text().startswith("Question 1 ")
    assert not Response.objects.filter(attempt=attempt).exists()
    page.unroute("**/save/")
    page.wait_for_selector("#submit-counts", timeout=15_000)
    total = attempt.item_count
    assert (
        f"{total - 1} of {total} questions are unanswered"
        in page.locator("#submit-counts").inner_text()
    )
    assert Response.objects.filter(attempt=attempt).exclude(selection=[]).count() == 1


def test_review_while_saves_fail_is_made_in_the_page_with_what_waits(
    page, live_server, login_in_browser, candidate, short_form
):
    login_in_browser(page, candidate)
    attempt = start(page, live_server, short_form)
    block_saves(page)
    page.locator("input[name=choice]").nth(0).click()
    page.keyboard.press("r")
    page.wait_for_selector("#review-heading", timeout=15_000)
    assert page.url.endswith(f"/attempts/{attempt.pk}/review/")
    assert "1 answer waits to be sent" in page.locator("#review-waiting").inner_text()
    total = attempt.item_count
    assert f"1 answered · {total - 1} unanswered" in page.locator("#client-review").inner_text()
    assert not page.locator("#question-panel").is_visible()
    # The submit page needs the server to count: leaving for it still waits, and says why.
    page.locator("#client-review").get_by_role("link", name="Submit…").click()
    alert = page.locator("#exam-alert")
    alert.wait_for(state="visible", timeout=15_000)
    assert "1 change is not saved yet" in alert.inner_text()


def test_submit_now_sends_queued_answers_and_shows_final_counts_first(
    page, live_server, login_in_browser, candidate, short_form
):
    login_in_browser(page, candidate)
    attempt = start(page, live_server, short_form)
    total = attempt.item_count
    block_saves(page)
    page.locator("input[name=choice]").nth(0).click()
    page.goto(f"{live_server.url}/exams/attempts/{attempt.pk}/submit/")
    counts = page.locator("#submit-counts")
    assert f"{total} of {total} questions are unanswered" in counts.inner_text()
    page.get_by_role("button", name="Submit now").click()
    page.wait_for_timeout(1500)
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.IN_PROGRESS  # not submitted over a queued answer
    page.unroute("**/save/")
    page.wait_for_function(
        f"document.getElementById('submit-counts').textContent.includes('{total - 1} of {total}')",
        timeout=15_000,
    )
    page.get_by_role("button", name="Submit now").click()
    page.wait_for_selector("#result-state")
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.SUBMITTED
    assert Response.objects.filter(attempt=attempt).exclude(selection=[]).count() == 1


def test_a_select_all_item_takes_any_number_of_options_and_states_no_count(
    page, live_server, login_in_browser, candidate
):
    bank_items(1, 1, kind="select_all", choose=2, options=[
        ("A", True), ("B", True), ("C", False), ("D", False), ("E", False)
    ])  # fmt: skip
    form = published_form({1: 1}, stock=False, minutes=60, name="Select all")
    login_in_browser(page, candidate)
    attempt = start(page, live_server, form)
    assert page.locator("#choose-n").inner_text() == "Select all that apply."
    choices = page.locator("input[name=choice]")
    for n in range(4):
        choices.nth(n).click()
    assert page.locator("#choose-msg").inner_text() == ""
    assert all(choices.nth(n).is_checked() for n in range(4))
    wait_saved(page)
    assert len(Response.objects.get(attempt=attempt).selection) == 4
