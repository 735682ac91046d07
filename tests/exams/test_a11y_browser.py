"""axe-core finds no violation on the candidate's exam pages, and the code book sits beside
the item on a 1366×768 screen."""

from __future__ import annotations

import pytest

from tests.a11y import assert_accessible
from tests.exams.test_browser import short_form, start, wait_saved  # noqa: F401
from tests.exams.test_codebook_panel_browser import small_cm_set
from tests.factories import bank_case, bank_items, published_form

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_item_and_review_pages_have_no_axe_violations(
    page,
    live_server,
    login_in_browser,
    candidate,
    short_form,  # noqa: F811
):
    login_in_browser(page, candidate)
    start(page, live_server, short_form)
    page.locator("input[name=choice]").first.click()
    page.keyboard.press("f")
    wait_saved(page)
    page.locator("[data-option='2'] button.strike").click()
    assert_accessible(page)
    # The high-contrast theme keeps every text readable too.
    page.get_by_role("button", name="High contrast").click()
    assert_accessible(page)
    page.get_by_role("button", name="High contrast").click()
    page.keyboard.press("r")
    page.wait_for_selector("#review-heading")
    assert_accessible(page)


def test_case_item_has_no_axe_violations_and_its_record_scrolls_by_keyboard(
    page, live_server, login_in_browser, candidate
):
    from questionbank.models import Case

    case, _versions = bank_case([1, 1])
    long_note = " ".join(["The patient was seen on the ward and examined again."] * 40)
    Case.objects.filter(pk=case.pk).update(
        sections=[{"heading": "Progress notes", "body": long_note}]
    )
    form = published_form({1: 2}, stock=False, name="Case form")
    # A short window, so that the record is taller than its box (70% of the height).
    page.set_viewport_size({"width": 1366, "height": 500})
    login_in_browser(page, candidate)
    start(page, live_server, form)
    assert_accessible(page)
    record = page.get_by_role("region", name="Health record")
    assert record.evaluate("el => el.scrollHeight > el.clientHeight")
    page.focus("#q-heading")
    page.keyboard.press("Tab")  # Highlight
    page.keyboard.press("Tab")  # the record
    assert page.evaluate("document.activeElement.classList.contains('case-doc')")
    page.keyboard.press("PageDown")
    page.wait_for_function("document.querySelector('.case-doc').scrollTop > 0", timeout=2_000)


def test_practice_setup_and_feedback_have_no_axe_violations(
    page, live_server, login_in_browser, candidate
):
    bank_items(1, 2)
    bank_items(2, 2)
    login_in_browser(page, candidate)
    page.goto(f"{live_server.url}/exams/practice/")
    assert_accessible(page)
    # Each checkbox sits on the line of its label.
    box = page.locator("input[name=domains]").first.bounding_box()
    label = page.locator(
        "label[for=" + page.locator("input[name=domains]").first.get_attribute("id") + "]"
    ).bounding_box()
    assert abs((box["y"] + box["height"] / 2) - (label["y"] + label["height"] / 2)) < 6
    assert label["x"] > box["x"] + box["width"]
    page.locator("input[name=domains]").first.check()
    page.get_by_role("button", name="Start practice").click()
    page.wait_for_selector("#q-heading")
    page.locator("input[name=choice]").first.click()
    page.get_by_role("button", name="Check answer").click()
    page.wait_for_selector(".feedback")
    keyed = page.locator(".option-row.keyed")
    assert keyed.count() == 1
    letter = keyed.locator(".letter").inner_text().rstrip(".")
    assert f"Key: {letter}" in page.locator(".feedback").inner_text()
    assert keyed.locator(".key-badge").is_visible()
    assert "Key: the correct answer" in keyed.locator(".key-badge").text_content()
    assert_accessible(page)


def test_code_book_panel_opens_beside_the_item_at_1366_by_768_without_axe_violations(
    page, live_server, login_in_browser, candidate
):
    small_cm_set()
    # A full-length form: its 107-cell navigator is what pushed the code book off screen.
    form = published_form({1: 97}, pretest=10, name="Full length")
    page.set_viewport_size({"width": 1366, "height": 768})
    login_in_browser(page, candidate)
    start(page, live_server, form)
    page.locator("#exam-codebook summary").focus()
    page.keyboard.press("Enter")
    page.fill("#codebook-panel-q", "sepsis")
    page.wait_for_selector("[data-codebook-body] >> text=A41.9")
    panel = page.locator("#exam-codebook").bounding_box()
    question = page.locator("#question-panel").bounding_box()
    assert panel["x"] >= question["x"] + question["width"]  # beside, to the right
    assert panel["y"] < question["y"] + question["height"]  # level with it, not below
    assert panel["y"] >= 0 and panel["y"] + panel["height"] <= 768
    assert panel["x"] + panel["width"] <= 1366
    assert_accessible(page, include="#exam-codebook")
