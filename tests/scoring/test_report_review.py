"""The answer review of the score report and result pages, served without JavaScript: the
GET filter (show=wrong|flagged, domain=N) marks what it leaves out `hidden`, bad values
are read as no filter, every question is collapsed, pretest items never appear; and the
report says why it has no score range when the form's items have no difficulties."""

from __future__ import annotations

import re

import pytest
from django.template.loader import render_to_string

from exams.models import FormItem, Response
from exams.selectors import answer_review, attempt_answer_review
from scoring import selectors, services
from tests.factories import calibrate, finished_attempt, operational_versions, scored_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def form():
    return scored_form({1: 4, 2: 3}, pretest=2, rating=0.6, name="Review mock", allow_review=True)


@pytest.fixture
def attempt(form, candidate):
    # Scored items at positions divisible by 3 wrong; pretest items answered right.
    attempt = finished_attempt(
        form, candidate, correct=lambda fi: fi.is_pretest or fi.position % 3 != 0
    )
    flagged = FormItem.objects.filter(form=form, is_pretest=False).order_by("position")[:2]
    Response.objects.filter(attempt=attempt, form_item__in=list(flagged)).update(flagged=True)
    services.attempt_score(attempt_id=attempt.pk)
    return attempt


def _rows(html: str) -> dict[str, bool]:
    """review item id → shown (not hidden)."""
    return {
        m.group(1): "hidden" not in m.group(0)
        for m in re.finditer(r'<li class="review-item[^>]*id="(review-q\d+)"[^>]*>', html)
    }


def expected(attempt, *, show="all", domain=None) -> set[str]:
    items = attempt_answer_review(attempt=attempt)
    out = set()
    for item in items:
        if show == "wrong" and item.correct:
            continue
        if show == "flagged" and not item.flagged:
            continue
        if domain is not None and item.domain != domain:
            continue
        out.add(f"review-q{item.position}")
    return out


@pytest.mark.parametrize("url", ["/scores/attempts/{}/", "/exams/attempts/{}/result/"])
@pytest.mark.parametrize(
    "query,show,domain",
    [
        ("", "all", None),
        ("?show=wrong", "wrong", None),
        ("?show=flagged", "flagged", None),
        ("?domain=2", "all", 2),
        ("?show=wrong&domain=1", "wrong", 1),
        # Hand-edited values are no filter, never an error.
        ("?show=everything&domain=abc", "all", None),
        ("?domain=9", "all", None),
        ("?domain=99999999999999", "all", None),
    ],
)
def test_the_get_filter_hides_what_it_leaves_out(
    client, candidate, attempt, url, query, show, domain
):
    client.force_login(candidate)
    response = client.get(url.format(attempt.pk) + query)
    assert response.status_code == 200
    html = response.content.decode()
    rows = _rows(html)
    assert len(rows) == 7  # the seven scored items; the two pretest items never
    want = expected(attempt, show=show, domain=domain)
    assert {k for k, shown in rows.items() if shown} == want
    assert f"Showing {len(want)} of 7 items." in html
    # Collapsed by default: no question is open.
    assert "<details open" not in html
    if not want:
        assert re.search(r'id="review-none">', html)


def test_filters_narrow_the_review(attempt):
    # The fixture must make the filters mean something, or the test above proves little.
    assert 0 < len(expected(attempt, show="wrong")) < 7
    assert len(expected(attempt, show="flagged")) == 2
    assert 0 < len(expected(attempt, domain=2)) < 7


def test_pretest_items_are_in_no_review_or_filter(client, candidate, attempt, form):
    pretest_stems = list(
        FormItem.objects.filter(form=form, is_pretest=True).values_list(
            "item_version__stem", flat=True
        )
    )
    client.force_login(candidate)
    for query in ("", "?show=wrong", "?show=flagged", "?domain=1"):
        html = client.get(f"/scores/attempts/{attempt.pk}/{query}").content.decode()
        for stem in pretest_stems:
            assert stem not in html


def test_the_pdf_partial_prints_every_item_open_without_the_filter(attempt):
    report = selectors.attempt_report(attempt=attempt)
    html = render_to_string(
        "scoring/report_print.html",
        {
            "report": report,
            "attempt": attempt,
            "review": answer_review(items=report.review_items, params={"show": "wrong"}),
        },
    )
    assert html.count("<details open") == 7
    assert "review-filter" not in html


def test_a_form_without_difficulties_says_why_there_is_no_range(client, candidate, attempt):
    client.force_login(candidate)
    html = client.get(f"/scores/attempts/{attempt.pk}/").content.decode()
    assert 'id="precision-missing"' in html
    assert 'id="score-range"' not in html


def test_a_calibrated_form_shows_its_range_and_probability(client, candidate, form):
    versions = operational_versions(form)
    calibrate(versions, [(-1) ** i * 0.3 * i / len(versions) for i in range(len(versions))])
    attempt = finished_attempt(form, candidate, correct=lambda fi: fi.position % 2 == 1)
    services.attempt_score(attempt_id=attempt.pk)
    client.force_login(candidate)
    html = client.get(f"/scores/attempts/{attempt.pk}/").content.decode()
    assert 'id="score-range"' in html
    assert 'id="pass-probability"' in html
    assert 'id="precision-missing"' not in html


def test_the_result_page_shows_the_scaled_score_from_the_attempt(client, candidate, attempt):
    client.force_login(candidate)
    html = client.get(f"/exams/attempts/{attempt.pk}/result/").content.decode()
    attempt.refresh_from_db()
    scaled = attempt.result["scaled_score"]
    assert scaled is not None
    assert f"Scaled score: <strong>{scaled}</strong>" in html


def test_the_result_page_says_why_it_has_no_range_or_shows_it(client, candidate, attempt, form):
    client.force_login(candidate)
    html = client.get(f"/exams/attempts/{attempt.pk}/result/").content.decode()
    assert 'id="precision-missing"' in html and 'id="score-range"' not in html
    versions = operational_versions(form)
    calibrate(versions, [0.2 * i - 0.5 for i in range(len(versions))])
    second = finished_attempt(form, candidate, correct=lambda fi: fi.position % 2 == 1)
    services.attempt_score(attempt_id=second.pk)
    html = client.get(f"/exams/attempts/{second.pk}/result/").content.decode()
    result = second.score
    assert f"Score range: <strong>{result.scaled_low}–{result.scaled_high}</strong>" in html
    assert "probability of passing: <strong>" in html
