"""The code book beside an exam item: search and browse without losing place or answers."""

from __future__ import annotations

import pytest

from codebook.loaders import CodeRecord
from codebook.services import codeset_load
from exams import services
from exams.models import Response
from tests.exams.test_browser import short_form, start, wait_saved  # noqa: F401 - fixtures
from tests.factories import bank_items, blueprint_with

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def small_cm_set():
    records = [
        CodeRecord("A41", "A41", "Other sepsis", "category", position=1),
        CodeRecord(
            "A419", "A41.9", "Sepsis, unspecified organism", "subcategory", True, "A41", position=2
        ),
        CodeRecord(
            "J189", "J18.9", "Pneumonia, unspecified organism", "subcategory", True, position=3
        ),
    ]
    codeset_load(system="cm", year=2026, source="test", fingerprint="t1", build=lambda: records)


def test_code_book_panel_searches_beside_the_item_without_losing_the_answer(
    page,
    live_server,
    login_in_browser,
    candidate,
    short_form,  # noqa: F811
):
    small_cm_set()
    login_in_browser(page, candidate)
    attempt = start(page, live_server, short_form)
    heading = page.locator("#q-heading").inner_text()
    page.locator("#answer-form input[name=choice]").first.check()
    wait_saved(page)

    page.click("#exam-codebook summary")
    page.fill("#codebook-panel-q", "sepsis")
    page.wait_for_selector("[data-codebook-body] >> text=A41.9")
    page.locator("[data-codebook-body] a", has_text="A41.9").first.click()
    page.wait_for_selector("[data-codebook-body] >> text=Sepsis, unspecified organism")

    # Still on the same question, with the answer still chosen and saved.
    assert page.locator("#q-heading").inner_text() == heading
    assert page.locator("#answer-form input[name=choice]").first.is_checked()
    assert Response.objects.filter(attempt=attempt).exclude(selection=[]).count() == 1

    # Moving to the next question keeps the code book where it was.
    page.click("#nav-2")
    page.wait_for_function(
        "document.getElementById('q-heading').textContent.startsWith('Question 2 ')"
    )
    assert page.locator("[data-codebook-body]").inner_text().count("Sepsis, unspecified") >= 1


def test_form_setting_turns_the_panel_off(page, live_server, login_in_browser, candidate):
    from tests.factories import judges, rate

    rate(bank_items(1, 3), rating=0.6, judges_=judges(1))
    form = services.form_assemble(blueprint=blueprint_with({1: 3}), seed=1, name="No book", by=None)
    form.codebook_panel = False
    form.save()
    form = services.form_publish(form=form, by=None)
    form = services.form_set_availability(form=form, available_to_all=True)
    login_in_browser(page, candidate)
    start(page, live_server, form)
    assert page.locator("#exam-codebook").count() == 0
