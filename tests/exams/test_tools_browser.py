"""The candidate tools and review walks, used by keyboard in headless Chromium."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from exams.models import Attempt, Response
from tests.exams.test_browser import go_to, short_form, start, wait_saved  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def focused(page) -> str:
    return page.evaluate(
        "document.activeElement.id || document.activeElement.className || "
        "document.activeElement.tagName"
    )


def select_words(page, selector: str, start: int, end: int) -> str:
    """Select characters start..end of the first text of `selector`, as a drag would."""
    return page.evaluate(
        """([selector, start, end]) => {
            const el = document.querySelector(selector);
            const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
            const text = walker.nextNode();
            const range = document.createRange();
            range.setStart(text, start);
            range.setEnd(text, end);
            const selection = window.getSelection();
            selection.removeAllRanges();
            selection.addRange(range);
            return range.toString();
        }""",
        [selector, start, end],
    )


def tools_ready(page):
    """The tools' script is deferred: a key pressed before it ran would do nothing."""
    page.wait_for_selector("html[data-tools=ready]", state="attached")


def test_highlight_and_strike_out_by_keyboard_are_kept_per_item(
    page,
    live_server,
    login_in_browser,
    candidate,
    short_form,  # noqa: F811
):
    login_in_browser(page, candidate)
    attempt = start(page, live_server, short_form)
    tools_ready(page)
    stem = page.locator("#stem")
    chosen = select_words(page, "#stem", 0, 8)
    page.focus("#q-heading")
    page.keyboard.press("Tab")
    assert focused(page) == "tool-highlight"
    page.keyboard.press("Enter")
    mark = stem.locator("mark.hl")
    assert mark.count() == 1 and mark.inner_text() == chosen

    # Strike out option B with Space: drawn through, pressed, and not an answer.
    strike = page.locator("[data-option='1'] button.strike")
    assert strike.get_attribute("aria-pressed") == "false"
    strike.focus()
    page.keyboard.press("Space")
    assert strike.get_attribute("aria-pressed") == "true"
    decoration = page.evaluate(
        "getComputedStyle(document.querySelector(\"[data-option='1'] .text\")).textDecorationLine"
    )
    assert decoration == "line-through"
    assert page.locator("input[name=choice]:checked").count() == 0
    page.wait_for_timeout(300)
    assert not Response.objects.filter(attempt=attempt).exists()

    # Kept across a reload...
    page.reload()
    page.wait_for_selector("#q-heading")
    assert page.locator("#stem mark.hl").inner_text() == chosen
    assert page.locator("[data-option='1'] button.strike").get_attribute("aria-pressed") == "true"
    # ...and per item: the next item has neither, and coming back shows both again.
    go_to(page, 2)
    assert page.locator("#stem mark.hl").count() == 0
    assert page.locator("button.strike[aria-pressed=true]").count() == 0
    go_to(page, 1)
    assert page.locator("#stem mark.hl").inner_text() == chosen
    assert page.locator("[data-option='1']").get_attribute("class") == "option-row struck"

    # A highlight is removed from the keyboard (Enter on it), and stays removed.
    page.locator("#stem mark.hl").focus()
    page.keyboard.press("Enter")
    assert page.locator("#stem mark.hl").count() == 0
    assert page.locator("#stem").inner_text().startswith(chosen)
    page.locator("[data-option='1'] button.strike").focus()
    page.keyboard.press("Enter")
    page.reload()
    page.wait_for_selector("#q-heading")
    assert page.locator("#stem mark.hl").count() == 0
    assert page.locator("button.strike[aria-pressed=true]").count() == 0


def test_highlight_without_a_selection_says_what_to_do(
    page,
    live_server,
    login_in_browser,
    candidate,
    short_form,  # noqa: F811
):
    login_in_browser(page, candidate)
    start(page, live_server, short_form)
    tools_ready(page)
    page.locator("#tool-highlight").focus()
    page.keyboard.press("Enter")
    page.wait_for_function(
        "document.getElementById('tool-status').textContent.includes('Select words')"
    )
    assert page.locator("mark.hl").count() == 0


def test_calculator_dialog_by_keyboard(
    page,
    live_server,
    login_in_browser,
    candidate,
    short_form,  # noqa: F811
):
    login_in_browser(page, candidate)
    attempt = start(page, live_server, short_form)
    tools_ready(page)
    opener = page.get_by_role("button", name="Calculator")
    opener.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Calculator")
    dialog.wait_for()
    assert page.evaluate("document.activeElement.closest('#calculator') !== null")
    page.keyboard.type("12+30=")
    assert page.locator("#calc-display").inner_text() == "42"
    page.keyboard.type("/4")
    page.keyboard.press("Tab")  # keys are buttons too: Tab to one and press it
    page.keyboard.press("Escape")
    assert not dialog.is_visible()
    assert focused(page) == "tool-calculator"
    # Digits typed in the calculator never chose an answer.
    assert page.locator("input[name=choice]:checked").count() == 0
    assert not Response.objects.filter(attempt=attempt).exists()
    # Pressing its keys: 9 × 7 = 63, then divide by zero is an error, C clears.
    page.keyboard.press("Space")
    dialog.wait_for()
    for name in ("Clear", "9"):
        page.get_by_role("button", name=name, exact=True).focus()
        page.keyboard.press("Enter")
    page.get_by_role("button", name="Multiply").focus()
    page.keyboard.press("Enter")
    page.keyboard.type("7")
    page.get_by_role("button", name="Equals").focus()
    page.keyboard.press("Space")
    assert page.locator("#calc-display").inner_text() == "63"
    page.keyboard.type("/0=")
    assert page.locator("#calc-display").inner_text() == "Error"
    page.keyboard.type("c1.5*4=")
    assert page.locator("#calc-display").inner_text() == "6"
    page.get_by_role("button", name="Close").focus()
    page.keyboard.press("Enter")
    assert not dialog.is_visible()


def test_text_size_contrast_and_hidden_timer_are_kept_and_warnings_still_announced(
    page,
    live_server,
    login_in_browser,
    candidate,
    short_form,  # noqa: F811
):
    login_in_browser(page, candidate)
    attempt = start(page, live_server, short_form)
    tools_ready(page)
    root_px = "parseFloat(getComputedStyle(document.documentElement).fontSize)"
    base = page.evaluate(root_px)
    size = page.locator("#tool-text-size")
    size.focus()
    sizes = []
    for _ in range(3):
        page.keyboard.press("Enter")
        sizes.append(page.evaluate(root_px))
    assert base < sizes[0] < sizes[1] < sizes[2]
    assert "Text size: largest" in size.inner_text()

    contrast = page.get_by_role("button", name="High contrast")
    contrast.focus()
    page.keyboard.press("Space")
    assert contrast.get_attribute("aria-pressed") == "true"
    background = "getComputedStyle(document.querySelector('.question-panel')).backgroundColor"
    assert page.evaluate(background) == "rgb(0, 0, 0)"

    hide = page.get_by_role("button", name="Hide timer")
    hide.focus()
    page.keyboard.press("Enter")
    assert hide.get_attribute("aria-pressed") == "true"
    assert not page.locator("#timer").is_visible()
    assert page.locator(".timer-off").is_visible()

    # Just over 5 minutes left, after a reload: everything kept, and the warning still comes
    # when its time does.
    Attempt.objects.filter(pk=attempt.pk).update(
        deadline=timezone.now() + dt.timedelta(minutes=5, seconds=2)
    )
    page.reload()
    page.wait_for_selector("#q-heading")
    assert page.evaluate(root_px) == sizes[2]
    assert page.evaluate(background) == "rgb(0, 0, 0)"
    assert not page.locator("#timer").is_visible()
    page.wait_for_function("document.getElementById('announcer').textContent === '5 minutes left.'")
    assert page.locator("#time-warning").is_visible()
    # Cycling on returns to the standard size; showing the timer again.
    size.focus()
    page.keyboard.press("Enter")
    assert page.evaluate(root_px) == base
    hide.focus()
    page.keyboard.press("Space")
    assert page.locator("#timer").is_visible()


def test_review_walk_counts_and_steps_within_the_flagged_items(
    page,
    live_server,
    login_in_browser,
    candidate,
    short_form,  # noqa: F811
):
    login_in_browser(page, candidate)
    start(page, live_server, short_form)
    tools_ready(page)
    for position in (2, 4):
        go_to(page, position)
        page.keyboard.press("f")
        wait_saved(page)
    page.keyboard.press("r")
    page.wait_for_selector("#review-heading")
    page.get_by_role("link", name="Review flagged (2)").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#walk-status")
    assert page.locator("#q-heading").inner_text().startswith("Question 2 ")
    assert "flagged 1 of 2" in page.locator("#walk-status").inner_text()
    assert page.get_by_role("button", name="Previous").count() == 0
    page.keyboard.press("n")  # Next within the walk: item 4, not 3
    page.wait_for_function(
        "document.getElementById('q-heading').textContent.startsWith('Question 4 ')"
    )
    assert "flagged 2 of 2" in page.locator("#walk-status").inner_text()
    assert "?walk=flagged" in page.url
    page.get_by_role("button", name="Previous").click()
    page.wait_for_function(
        "document.getElementById('q-heading').textContent.startsWith('Question 2 ')"
    )
    assert "flagged 1 of 2" in page.locator("#walk-status").inner_text()
    # Leaving the walk: normal navigation again (Next goes to item 3).
    page.get_by_role("link", name="Leave the walk").click()
    page.wait_for_selector("#q-heading")
    assert page.locator("#walk-status").count() == 0
    page.keyboard.press("n")
    page.wait_for_function(
        "document.getElementById('q-heading').textContent.startsWith('Question 3 ')"
    )
