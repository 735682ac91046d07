"""What a move costs the server: the item page reads, it never writes."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from exams import selectors, services
from tests.exams.conftest import post_save
from tests.factories import bank_case, bank_items, published_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def attempt(candidate):
    bank_items(1, 4)
    bank_case([1, 1])
    form = published_form({1: 6}, stock=False, name="Mock A")
    return services.attempt_start(form=form, candidate=candidate)


@pytest.fixture
def cand_client(client, candidate):
    client.force_login(candidate)
    return client


def test_an_item_page_writes_nothing_and_reads_four_rows_once_cached(
    cand_client, attempt, django_assert_max_num_queries
):
    for position in range(1, 7):  # fills the cache of every item's text
        cand_client.get(reverse("exams:item", args=[attempt.pk, position]))
    for position in range(1, 7):
        # the user, the attempt, its responses; the session, the published form, the
        # item's text and its case record come from the cache or the worker's memory.
        with django_assert_max_num_queries(3), CaptureQueriesContext(connection) as ctx:
            response = cand_client.get(reverse("exams:item", args=[attempt.pk, position]))
        assert response.status_code == 200
        assert not [q for q in ctx.captured_queries if q["sql"].lstrip().upper()[:6] != "SELECT"]
    attempt.refresh_from_db()
    assert attempt.current_position == 1


def test_the_first_item_page_makes_the_whole_forms_texts_once(cand_client, attempt, candidate):
    """A cohort starting at once: the first page made every item's text in one go, so the
    other candidates' first pages (each a different item) read them from the cache."""
    cache.clear()
    selectors.clear_local_cache()
    with CaptureQueriesContext(connection) as first:
        cand_client.get(reverse("exams:item", args=[attempt.pk, 1]))
    made = [q for q in first.captured_queries if "exams_formitem" in q["sql"]]
    assert len(made) == 1
    for position in range(2, 7):
        with CaptureQueriesContext(connection) as later:
            response = cand_client.get(reverse("exams:item", args=[attempt.pk, position]))
        assert response.status_code == 200
        assert not [q for q in later.captured_queries if "exams_formitem" in q["sql"]]
        assert not [q for q in later.captured_queries if "questionbank_option" in q["sql"]]


def test_no_javascript_save_that_moves_records_the_place_to_resume(cand_client, attempt):
    post_save(cand_client, attempt, 1, ["0"], htmx=False, go="next")
    attempt.refresh_from_db()
    assert attempt.current_position == 2
    post_save(cand_client, attempt, 2, ["0"], htmx=False, go="5")
    attempt.refresh_from_db()
    assert attempt.current_position == 5
    # Autosave from the JavaScript page moves nobody: one read and one upsert, no UPDATE.
    with CaptureQueriesContext(connection) as ctx:
        post_save(cand_client, attempt, 3, ["1"])
    assert not [q for q in ctx.captured_queries if "UPDATE" in q["sql"].upper()[:10]]
    attempt.refresh_from_db()
    assert attempt.current_position == 5
    response = cand_client.get(reverse("exams:attempt", args=[attempt.pk]))
    assert response["Location"] == reverse("exams:item", args=[attempt.pk, 5]) + "?resume"


def test_navigator_cells_link_every_item_without_a_reverse_each(cand_client, attempt):
    post_save(cand_client, attempt, 2, ["0"], flagged=True)
    page = cand_client.get(reverse("exams:item", args=[attempt.pk, 3])).content.decode()
    cells = re.findall(r'<button id="nav-(\d+)"[^>]*data-nav="([^"]+)"[^>]*>', page)
    assert [int(p) for p, _ in cells] == list(range(1, 7))
    for position, url in cells:
        assert url == reverse("exams:item", args=[attempt.pk, int(position)])
    second = re.search(r'<button id="nav-2"[^>]*>', page).group(0)
    assert 'class="cell answered flagged"' in second
    assert 'aria-label="Question 2, answered, flagged"' in second
    assert 'aria-current="step"' in re.search(r'<button id="nav-3"[^>]*>', page).group(0)


def test_the_item_page_states_the_time_left_for_pages_without_javascript(cand_client, attempt):
    page = cand_client.get(reverse("exams:item", args=[attempt.pk, 1])).content.decode()
    timer = re.search(r'<span id="timer"[^>]*>([^<]*)</span>', page).group(1)
    assert re.fullmatch(r"0[01]:[0-5]\d:[0-5]\d", timer)  # a 60-minute form, just started
    assert "the exam ends at" in page and "reload to update" in page


def test_navigator_tells_answered_from_cleared_and_flagged_only(cand_client, attempt):
    post_save(cand_client, attempt, 1, ["0"])
    post_save(cand_client, attempt, 2, [], flagged=True)  # flagged, never answered
    post_save(cand_client, attempt, 3, ["1"])
    post_save(cand_client, attempt, 3, [])  # answered, then cleared
    page = cand_client.get(reverse("exams:item", args=[attempt.pk, 2])).content.decode()
    css = dict(re.findall(r'<button id="nav-(\d+)"[^>]*class="([^"]+)"', page))
    assert css == {
        "1": "cell answered",
        "2": "cell flagged",
        "3": "cell",
        "4": "cell",
        "5": "cell",
        "6": "cell",
    }
    # The item shown carries its own answer state: flagged, nothing chosen.
    assert re.search(r'name="flagged" value="1" checked', page)
    assert not re.search(r'name="choice" value="\d+" checked', page)
