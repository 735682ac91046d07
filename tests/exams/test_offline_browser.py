"""Offline delivery, stale tabs and warnings, in headless Chromium."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.utils import timezone

from exams.models import Attempt, AttemptState, Response
from tests.exams.test_browser import short_form, start, wait_ready, wait_saved  # noqa: F401
from tests.factories import bank_items, published_form

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def twenty_form():
    bank_items(1, 20)
    return published_form({1: 20}, stock=False, minutes=60, name="Twenty")


def poll(page, script: str, timeout: float = 15.0):
    """Evaluate `script` (which may return a promise) until it is truthy."""
    stop = time.monotonic() + timeout
    while True:
        value = page.evaluate(script)
        if value:
            return value
        if time.monotonic() > stop:
            raise AssertionError(f"not true after {timeout} s: {script}")
        page.wait_for_timeout(200)


def wait_kept_for_offline(page, attempt):
    """The service worker is in charge and holds the attempt's page and payload."""
    poll(page, "!!(navigator.serviceWorker && navigator.serviceWorker.controller)")
    poll(
        page,
        "caches.open('ccs-exam-pages-v1').then(c => Promise.all(["
        f"c.match('/exams/attempts/{attempt.pk}/offline-shell'),"
        f"c.match('/exams/attempts/{attempt.pk}/payload/')])).then(r => r.every(Boolean))",
    )


def _cut_worker(route):
    if route.request.service_worker:
        route.abort("internetdisconnected")
    else:
        route.continue_()


def go_offline(context):
    context.set_offline(True)
    context.route("**/*", _cut_worker)  # the worker's own requests too


def go_online(context):
    context.unroute("**/*", _cut_worker)
    context.set_offline(False)


def heading_is(page, position: int):
    page.wait_for_function(
        f"document.getElementById('q-heading').textContent.startsWith('Question {position} ')"
    )


def test_twenty_items_answered_offline_survive_a_reload_and_arrive_online(
    page, live_server, login_in_browser, candidate, twenty_form
):
    login_in_browser(page, candidate)
    attempt = start(page, live_server, twenty_form)
    wait_kept_for_offline(page, attempt)
    go_offline(page.context)
    picks = {}
    for position in range(1, 21):
        heading_is(page, position)
        pick = position % 3
        page.locator("input[name=choice]").nth(pick).click()
        picks[position] = pick
        if position == 7:
            page.keyboard.press("f")
        if position < 20:
            page.keyboard.press("n")  # Save and next: shown from the payload, no request
    # Moving freely: the navigator and Previous, each item with its answer.
    page.click("#nav-4")
    heading_is(page, 4)
    assert page.locator("input[name=choice]").nth(picks[4]).is_checked()
    page.keyboard.press("p")
    heading_is(page, 3)
    assert page.url.endswith(f"/attempts/{attempt.pk}/items/3/")
    assert "20 answers wait to be sent" in page.locator("#save-status").inner_text()
    # The review list, offline.
    page.keyboard.press("r")
    page.wait_for_selector("#review-heading")
    review = page.locator("#client-review").inner_text()
    assert "20 answered · 0 unanswered · 1 flagged · 20 in all" in review
    page.locator("#client-review").get_by_role("link", name="Flagged", exact=True).click()
    assert page.locator("#review-list li").count() == 1
    page.locator("#review-list").get_by_role("link", name="Question 7").click()
    heading_is(page, 7)
    assert page.locator("input[name=flagged]").is_checked()
    assert not Response.objects.filter(attempt=attempt).exists()

    page.reload()  # still offline: the service worker's copy, with every answer kept
    wait_ready(page)
    heading_is(page, 7)
    assert page.locator("input[name=choice]").nth(picks[7]).is_checked()
    assert page.locator("#navigator button.cell.answered").count() == 20
    assert not Response.objects.filter(attempt=attempt).exists()

    go_online(page.context)
    page.wait_for_function(
        "document.getElementById('save-status').textContent.includes('All answers saved')",
        timeout=30_000,
    )
    stored = {
        r.form_item_id: (r.selection, r.flagged) for r in Response.objects.filter(attempt=attempt)
    }
    assert len(stored) == 20
    for position, (form_item_id, _choose, option_ids) in enumerate(attempt.layout, 1):
        assert stored[form_item_id] == ([option_ids[picks[position]]], position == 7)


def test_a_stale_tab_catches_up_with_the_clock_answers_and_closing(
    page,
    live_server,
    login_in_browser,
    candidate,
    short_form,  # noqa: F811
):
    login_in_browser(page, candidate)
    attempt = start(page, live_server, short_form)
    stale = page.context.new_page()
    stale.goto(page.url)
    wait_ready(stale)
    page.locator("input[name=choice]").nth(1).click()
    wait_saved(page)
    # More time granted on the server: the other tab learns it when it is looked at again.
    Attempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() + dt.timedelta(hours=2))
    stale.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    stale.wait_for_function("/^0[12]:5\\d:\\d\\d$|^02:00:00$/.test(timer.textContent)")
    stale.wait_for_function("document.querySelectorAll('input[name=choice]')[1].checked")
    assert "answered" in stale.locator("#nav-1").get_attribute("class")
    # Submitted in the first tab: the stale one says so instead of going on.
    page.goto(f"{live_server.url}/exams/attempts/{attempt.pk}/submit/")
    page.get_by_role("button", name="Submit now").click()
    page.wait_for_selector("#result-state")
    stale.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    alert = stale.locator("#exam-alert")
    alert.wait_for(state="visible")
    assert "This exam has been submitted" in alert.inner_text()
    assert alert.get_by_role("link", name="See your result").is_visible()
    assert stale.locator("input[name=choice]").first.is_disabled()
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.SUBMITTED


def test_each_warning_is_announced_at_its_time_and_once(
    page,
    live_server,
    login_in_browser,
    candidate,
    short_form,  # noqa: F811
):
    login_in_browser(page, candidate)
    attempt = start(page, live_server, short_form)
    # The 30-minute mark is long past, the 5-minute one a few seconds ahead.
    Attempt.objects.filter(pk=attempt.pk).update(
        deadline=timezone.now() + dt.timedelta(minutes=5, seconds=3)
    )
    page.reload()
    wait_ready(page)
    assert page.locator("#announcer").text_content() == ""  # not "30 minutes" as if new
    page.wait_for_function(
        "document.getElementById('announcer').textContent === '5 minutes left.'",
        timeout=20_000,
    )
    assert page.locator("#time-warning").inner_text() == "5 minutes left."
    page.reload()
    wait_ready(page)
    page.wait_for_timeout(600)
    assert page.locator("#announcer").text_content() == ""  # once, not again
    other = page.context.new_page()
    other.goto(page.url)
    wait_ready(other)
    other.wait_for_timeout(600)
    assert other.locator("#announcer").text_content() == ""  # nor in another tab


def test_without_javascript_the_item_page_states_the_time_left(
    browser,
    live_server,
    candidate,
    short_form,  # noqa: F811
):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", candidate.username)
        page.fill("#id_password", "pw-for-tests-1")
        page.click("button[type=submit]")
        page.goto(f"{live_server.url}/exams/forms/{short_form.pk}/")
        page.get_by_role("button", name="Start the exam").click()
        page.wait_for_selector("#q-heading")
        assert page.locator("#timer").inner_text() in ("01:00:00", "00:59:59", "00:59:58")
        note = page.locator(".timer-asof").inner_text()
        assert "the exam ends at" in note and "reload to update" in note
        page.locator("input[name=choice]").nth(0).check()
        page.get_by_role("button", name="Save and next").click()
        page.wait_for_selector("#q-heading")
        assert page.locator("#q-heading").inner_text().startswith("Question 2 ")
        assert Response.objects.count() == 1
    finally:
        context.close()


def test_items_and_review_made_from_the_payload_have_no_axe_violations(
    page, live_server, login_in_browser, candidate
):
    from tests.a11y import assert_accessible
    from tests.factories import bank_case

    bank_case([1, 1])
    bank_items(1, 1, kind="multiple", choose=2, options=[
        ("A", True), ("B", True), ("C", False), ("D", False)
    ])  # fmt: skip
    form = published_form({1: 3}, stock=False, minutes=60, name="Mixed")
    login_in_browser(page, candidate)
    attempt = start(page, live_server, form)
    wait_kept_for_offline(page, attempt)
    go_offline(page.context)
    for position in (2, 3, 1):
        page.click(f"#nav-{position}")
        heading_is(page, position)
        page.locator("input[name=choice]").first.click()
        assert_accessible(page)
    assert page.locator("#answer-form .case-doc").count() + page.locator("#choose-n").count()
    page.keyboard.press("r")
    page.wait_for_selector("#review-heading")
    assert_accessible(page)
    go_online(page.context)
    # The three answers go out when the network returns; the test ends when they are in,
    # not while the server is still writing them (the database is emptied after each test).
    wait_saved(page)
    assert Response.objects.filter(attempt=attempt).count() == 3
