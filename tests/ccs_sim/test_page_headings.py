"""Each page a candidate works on has one h1, above the page's own h2."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from exams import services
from tests.factories import bank_items, published_form

pytestmark = pytest.mark.django_db


class Headings(HTMLParser):
    """(tag, id, text) of each h1-h6, in document order."""

    def __init__(self, html: str):
        super().__init__()
        self.found: list[tuple[str, str, str]] = []
        self._open: list | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag in {"h1", "h2", "h3", "h4", "h5", "h6"}:
            self._open = [tag, dict(attrs).get("id") or "", ""]

    def handle_data(self, data):
        if self._open is not None:
            self._open[2] += data

    def handle_endtag(self, tag):
        if self._open is not None and tag == self._open[0]:
            self.found.append((self._open[0], self._open[1], " ".join(self._open[2].split())))
            self._open = None


def headings(client, url: str) -> list[tuple[str, str, str]]:
    response = client.get(url)
    assert response.status_code == 200, url
    return Headings(response.content.decode()).found


def test_exam_item_review_and_submit_pages_have_the_form_name_as_h1(client, candidate):
    form = published_form({1: 2}, name="Mock exam A")
    attempt = services.attempt_start(form=form, candidate=candidate)
    client.force_login(candidate)
    pages = {
        reverse("exams:item", args=[attempt.pk, 1]): ("q-heading", "Question 1 of 2"),
        reverse("exams:review", args=[attempt.pk]): ("review-heading", "Review"),
        reverse("exams:submit", args=[attempt.pk]): ("submit-heading", "Submit the exam?"),
    }
    for url, (heading_id, text) in pages.items():
        found = headings(client, url)
        assert [h for h in found if h[0] == "h1"] == [("h1", "", "Mock exam A")], url
        # The h1 comes first; the page's own heading is still the h2 that scripts focus.
        assert found[0][0] == "h1", url
        assert ("h2", heading_id, text) in found, url


def test_practice_item_page_has_an_h1(client, candidate):
    bank_items(1, 2)
    practice = services.practice_start(candidate=candidate, domains=[1], count=2, timed=False)
    client.force_login(candidate)
    found = headings(client, reverse("exams:item", args=[practice.pk, 1]))
    assert found[0] == ("h1", "", "Practice")
    assert [h for h in found if h[0] == "h1"] == [found[0]]
    assert ("h2", "q-heading", "Question 1 of 2") in found
