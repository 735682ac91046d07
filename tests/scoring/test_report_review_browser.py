"""The score report and result pages in Chromium: the answer review collapsed and
filterable, no horizontal overflow on a 360 px phone (case items included), the print
stylesheet, and axe-core with zero violations."""

from __future__ import annotations

import pytest

from exams.models import Response
from questionbank.models import Case
from scoring import tasks
from tests.a11y import assert_accessible
from tests.factories import bank_case, finished_attempt, scored_form

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# A record line a phone cannot fit unless it wraps: a long run without spaces, as pasted
# code lists and lab values are.
LONG_LINE = "CBC-WBC-12.4-HGB-10.9-PLT-180-" * 8


@pytest.fixture
def attempt(candidate):
    case, _ = bank_case([1, 1])
    Case.objects.filter(pk=case.pk).update(
        sections=[
            {"heading": "History and physical", "body": "Admitted with fever.\n" + LONG_LINE},
            {"heading": "Discharge summary", "body": "Discharged home on day 3."},
        ]
    )
    form = scored_form({1: 2, 2: 2, 3: 1}, pretest=1, name="Phone mock", allow_review=True)
    scored = iter(range(100))
    # Every other scored item wrong (2 of 5), the first answered item flagged.
    attempt = finished_attempt(
        form, candidate, correct=lambda fi: fi.is_pretest or next(scored) % 2 == 0
    )
    first = Response.objects.filter(attempt=attempt).order_by("form_item__position").first()
    Response.objects.filter(pk=first.pk).update(flagged=True)
    tasks.score_attempt(attempt.pk)
    return attempt


def _phone(browser):
    return browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=1)


@pytest.mark.parametrize("path", ["/scores/attempts/{}/", "/exams/attempts/{}/result/"])
def test_report_and_result_fit_a_360px_phone_with_the_review_open(
    browser, live_server, login_in_browser, attempt, candidate, path
):
    context = _phone(browser)
    page = context.new_page()
    try:
        login_in_browser(page, candidate)
        page.goto(live_server.url + path.format(attempt.pk))
        assert page.locator(".review-item").count() == 5  # the pretest item is not there
        # Collapsed: the first question's rationale is not shown until it is opened.
        first = page.locator(".review-item").first
        assert not first.locator(".rationale").is_visible()
        # Open every question and the case records: the widest the page can get.
        page.locator("[data-review-toggle=open]").click()
        for record in page.locator("details.case-record").all():
            record.locator("summary").click()
        assert first.locator(".rationale").is_visible()
        assert page.get_by_text("CBC-WBC-12.4").first.is_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"{path}: the page is {width}px wide"
        assert_accessible(page)
    finally:
        context.close()


def test_review_is_collapsed_and_filters_in_the_page(
    page, live_server, login_in_browser, attempt, candidate
):
    login_in_browser(page, candidate)
    page.goto(f"{live_server.url}/scores/attempts/{attempt.pk}/")
    items = page.locator(".review-item")
    assert items.count() == 5
    assert page.locator(".review-item details[open]").count() == 0
    assert page.locator("#review-count").inner_text() == "Showing 5 of 5 items."
    page.get_by_label("Not correct").check()
    page.wait_for_function("document.getElementById('review-count').textContent.includes('of 5')")
    wrong = page.locator(".review-item.wrong")
    assert page.locator(".review-item:visible").count() == wrong.count() == 2
    assert "show=wrong" in page.url
    page.get_by_label("Flagged").check()
    assert page.locator(".review-item:visible").count() == 1
    assert page.locator(".review-item:visible .tag.flagged").count() == 1
    page.get_by_label("All items").check()
    page.get_by_label("Domain", exact=True).select_option("2")
    assert page.locator(".review-item:visible").count() == 2
    assert page.locator("#review-count").inner_text() == "Showing 2 of 5 items."
    # Opening one question shows its options, key and rationale.
    visible = page.locator(".review-item:visible").first
    visible.locator("summary").first.click()
    assert visible.get_by_text("Rationale:").is_visible()
    assert visible.get_by_text("(key)").is_visible()
    assert_accessible(page)


def test_filter_works_without_javascript(
    browser, live_server, login_in_browser, attempt, candidate
):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        login_in_browser(page, candidate)
        page.goto(f"{live_server.url}/scores/attempts/{attempt.pk}/")
        # Without the script the expand/collapse buttons, which need it, stay hidden.
        assert not page.get_by_role("button", name="Expand all").is_visible()
        page.get_by_label("Not correct").check()
        page.get_by_role("button", name="Apply filter").click()
        page.wait_for_load_state()
        assert "show=wrong" in page.url
        assert page.locator(".review-item:visible").count() == 2
        assert page.locator("#review-count").inner_text() == "Showing 2 of 5 items."
    finally:
        context.close()


def test_print_shows_the_review_open_without_the_controls(
    page, live_server, login_in_browser, attempt, candidate
):
    login_in_browser(page, candidate)
    page.goto(f"{live_server.url}/scores/attempts/{attempt.pk}/")
    page.emulate_media(media="print")
    assert not page.locator(".site-header").is_visible()
    assert not page.locator(".review-filter").is_visible()
    rationales = page.locator(".review-item .rationale")
    assert rationales.count() == 5
    for i in range(5):
        assert rationales.nth(i).is_visible()
