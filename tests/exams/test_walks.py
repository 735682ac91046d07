"""Review walks: "Review flagged" and "Review unanswered" step through those items only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from exams import services
from exams.selectors import Cell
from exams.walks import walk_at, walk_kind, walk_positions
from tests.exams.conftest import post_save
from tests.factories import published_form

# --- the logic ------------------------------------------------------------------------------
CELLS = [
    Cell(1, answered=True, flagged=False),
    Cell(2, answered=False, flagged=True),
    Cell(3, answered=True, flagged=True),
    Cell(4, answered=False, flagged=False),
    Cell(5, answered=True, flagged=True),
]


def test_walk_positions_are_the_flagged_or_the_unanswered_items_in_order():
    assert walk_positions(CELLS, "flagged") == [2, 3, 5]
    assert walk_positions(CELLS, "unanswered") == [2, 4]
    with pytest.raises(ValueError):
        walk_positions(CELLS, "answered")


def test_only_the_two_walks_are_known():
    assert walk_kind("flagged") == "flagged"
    assert walk_kind("unanswered") == "unanswered"
    assert walk_kind("all") is None
    assert walk_kind(None) is None


def test_a_walk_counts_and_steps_within_its_items():
    first = walk_at(kind="flagged", positions=[2, 3, 5], position=2)
    assert (first.index, first.total, first.previous, first.next) == (1, 3, None, 3)
    middle = walk_at(kind="flagged", positions=[2, 3, 5], position=3)
    assert (middle.index, middle.previous, middle.next) == (2, 2, 5)
    last = walk_at(kind="flagged", positions=[2, 3, 5], position=5)
    assert (last.index, last.previous, last.next) == (3, 3, None)


def test_an_item_outside_the_walk_is_normal_navigation():
    assert walk_at(kind="flagged", positions=[2, 3, 5], position=4) is None
    assert walk_at(kind="flagged", positions=[], position=1) is None


# --- the pages ------------------------------------------------------------------------------


@pytest.fixture
def attempt(candidate):
    form = published_form({1: 5}, name="Walk form")
    return services.attempt_start(form=form, candidate=candidate)


@pytest.fixture
def cand_client(client, candidate):
    client.force_login(candidate)
    return client


def item_url(attempt, position, walk=None):
    url = reverse("exams:item", args=[attempt.pk, position])
    return f"{url}?walk={walk}" if walk else url


def flag(client, attempt, *positions):
    for position in positions:
        assert post_save(client, attempt, position, flagged=True).status_code == 200


@pytest.mark.django_db
def test_review_offers_the_walks_with_their_counts(cand_client, attempt):
    flag(cand_client, attempt, 2, 4)
    post_save(cand_client, attempt, 1, ["0"])
    page = cand_client.get(reverse("exams:review", args=[attempt.pk])).content.decode()
    assert 'href="?walk=flagged"' in page and "Review flagged (2)" in page
    assert 'href="?walk=unanswered"' in page and "Review unanswered (4)" in page


@pytest.mark.django_db
def test_no_walk_link_when_there_is_nothing_to_walk(cand_client, attempt):
    page = cand_client.get(reverse("exams:review", args=[attempt.pk])).content.decode()
    assert "?walk=flagged" not in page and "No flagged questions to review" in page


@pytest.mark.django_db
def test_starting_a_walk_opens_its_first_item(cand_client, attempt):
    flag(cand_client, attempt, 3, 5)
    response = cand_client.get(reverse("exams:review", args=[attempt.pk]), {"walk": "flagged"})
    assert response.status_code == 302
    assert response["Location"] == item_url(attempt, 3, "flagged")


@pytest.mark.django_db
def test_starting_a_walk_with_htmx_redirects_the_page(cand_client, attempt):
    flag(cand_client, attempt, 4)
    response = cand_client.get(
        reverse("exams:review", args=[attempt.pk]), {"walk": "flagged"}, HTTP_HX_REQUEST="true"
    )
    assert response["HX-Redirect"] == item_url(attempt, 4, "flagged")


@pytest.mark.django_db
def test_an_empty_walk_stays_on_review_and_says_so(cand_client, attempt):
    response = cand_client.get(reverse("exams:review", args=[attempt.pk]), {"walk": "flagged"})
    assert response.status_code == 200
    assert "There are no flagged questions to review now." in response.content.decode()


@pytest.mark.django_db
def test_item_in_a_walk_shows_the_count_and_steps_within_it(cand_client, attempt):
    flag(cand_client, attempt, 2, 4, 5)
    cand_client.get(reverse("exams:review", args=[attempt.pk]), {"walk": "flagged"})
    first = cand_client.get(item_url(attempt, 2, "flagged")).content.decode()
    assert "flagged 1 of 3" in first
    assert f'data-nav="{item_url(attempt, 4)}?walk=flagged"' in first  # Next skips item 3
    assert 'value="prev"' not in first  # nothing before the first flagged item
    middle = cand_client.get(item_url(attempt, 4, "flagged")).content.decode()
    assert "flagged 2 of 3" in middle
    assert f'data-nav="{item_url(attempt, 2)}?walk=flagged"' in middle  # Previous
    assert f'data-nav="{item_url(attempt, 5)}?walk=flagged"' in middle  # Next
    last = cand_client.get(item_url(attempt, 5, "flagged")).content.decode()
    assert "flagged 3 of 3" in last and "Save and review" in last
    assert f'href="{item_url(attempt, 5)}" data-full-nav>Leave the walk' in last


@pytest.mark.django_db
def test_the_walk_keeps_its_items_when_one_is_unflagged_on_the_way(cand_client, attempt):
    flag(cand_client, attempt, 1, 3)
    cand_client.get(reverse("exams:review", args=[attempt.pk]), {"walk": "flagged"})
    post_save(cand_client, attempt, 1, flagged=False)  # unflagged while walking
    page = cand_client.get(item_url(attempt, 3, "flagged")).content.decode()
    assert "flagged 2 of 2" in page
    assert f'data-nav="{item_url(attempt, 1)}?walk=flagged"' in page


@pytest.mark.django_db
def test_unanswered_walk_and_htmx_moves_keep_it(cand_client, attempt):
    post_save(cand_client, attempt, 1, ["0"])
    post_save(cand_client, attempt, 3, ["0"])
    cand_client.get(reverse("exams:review", args=[attempt.pk]), {"walk": "unanswered"})
    body = cand_client.get(item_url(attempt, 4, "unanswered"), HTTP_HX_REQUEST="true")
    text = body.content.decode()
    assert "<html" not in text and "unanswered 2 of 3" in text
    assert f'data-nav="{item_url(attempt, 5)}?walk=unanswered"' in text


@pytest.mark.django_db
def test_without_javascript_save_and_next_follows_the_walk(cand_client, attempt):
    flag(cand_client, attempt, 2, 5)
    cand_client.get(reverse("exams:review", args=[attempt.pk]), {"walk": "flagged"})
    response = post_save(
        cand_client, attempt, 2, ["1"], flagged=True, htmx=False, go="next", walk="flagged"
    )
    assert response["Location"] == item_url(attempt, 5, "flagged")
    response = post_save(
        cand_client, attempt, 5, flagged=True, htmx=False, go="prev", walk="flagged"
    )
    assert response["Location"] == item_url(attempt, 2, "flagged")
    response = post_save(
        cand_client, attempt, 5, flagged=True, htmx=False, go="next", walk="flagged"
    )
    assert response["Location"] == reverse("exams:review", args=[attempt.pk])
    # The navigator leaves the walk.
    response = post_save(cand_client, attempt, 5, htmx=False, go="3", walk="flagged")
    assert response["Location"] == item_url(attempt, 3)


@pytest.mark.django_db
def test_leaving_the_walk_is_normal_navigation(cand_client, attempt):
    flag(cand_client, attempt, 2, 4)
    cand_client.get(reverse("exams:review", args=[attempt.pk]), {"walk": "flagged"})
    page = cand_client.get(item_url(attempt, 2)).content.decode()
    assert "Review walk" not in page and 'name="walk"' not in page
    assert f'data-nav="{item_url(attempt, 3)}"' in page  # Next is the next position
    # An item outside the walk, even with ?walk=, is normal navigation too.
    page = cand_client.get(item_url(attempt, 3, "flagged")).content.decode()
    assert "Review walk" not in page


@pytest.mark.django_db
def test_a_walk_link_opened_without_a_started_walk_starts_one(cand_client, attempt, candidate):
    flag(cand_client, attempt, 2, 3)
    other = services.attempt_start(
        form=published_form({1: 2}, name="Other form"), candidate=candidate
    )
    session = cand_client.session
    session["exam-walk"] = {"attempt": other.pk, "kind": "flagged", "positions": [1, 2]}
    session.save()
    page = cand_client.get(item_url(attempt, 3, "flagged")).content.decode()
    assert "flagged 2 of 2" in page
