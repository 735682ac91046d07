"""The score report as a PDF: the candidate's own, cohort staff's, and nobody else's."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from exams import services as exams_services
from exams.models import Attempt, AttemptState
from scoring import services
from scoring.report_pdf import RefusedFetch, static_fetcher
from tests.cohorts.conftest import make_cohort
from tests.factories import finished_attempt, scored_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def form():
    return scored_form({1: 6, 2: 4}, pretest=2, rating=0.6, name="Mock A", allow_review=True)


@pytest.fixture
def attempt(form, candidate):
    started = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    attempt = finished_attempt(
        form,
        candidate,
        correct=lambda fi: fi.is_pretest or fi.position % 5 != 0,
        started_at=started,
        minutes_used=45,
    )
    services.attempt_score(attempt_id=attempt.pk)
    attempt.refresh_from_db()
    return attempt


def pdf_text(response) -> str:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    assert response.content.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(response.content))
    return "\n".join(page.extract_text() for page in reader.pages)


def own_url(attempt):
    return reverse("scoring:report_pdf", args=[attempt.pk])


def staff_url(cohort, attempt):
    return reverse(
        "cohorts:candidate_report_pdf", args=[cohort.pk, attempt.candidate_id, attempt.pk]
    )


def test_candidate_downloads_their_report_with_score_outcome_domains_and_review(
    client, candidate, attempt
):
    client.force_login(candidate)
    text = pdf_text(client.get(own_url(attempt)))
    result = attempt.score
    assert "Mock A: score report" in text
    assert str(result.scaled_score) in text
    assert ("Pass" if result.passed else "Did not pass") in text
    assert "Coding Knowledge and Skills" in text and "Coding Documentation" in text
    assert "45 min of 1 h 00 min" in text
    assert "Rationale" in text  # the form allows review, so the answers are in the PDF


def test_the_report_page_links_to_the_pdf(client, candidate, attempt):
    client.force_login(candidate)
    html = client.get(reverse("scoring:report", args=[attempt.pk])).content.decode()
    assert f'href="{own_url(attempt)}"' in html and "Download PDF" in html


def test_no_answer_review_in_the_pdf_when_the_form_does_not_allow_it(client, candidate):
    form = scored_form({1: 3, 2: 3}, rating=0.6, name="Closed form", allow_review=False)
    attempt = finished_attempt(form, candidate)
    services.attempt_score(attempt_id=attempt.pk)
    client.force_login(candidate)
    text = pdf_text(client.get(own_url(attempt)))
    assert "This exam does not offer an answer review" in text
    assert "Rationale" not in text


def test_a_practice_report_says_it_is_practice(client, candidate, form):
    practice = exams_services.practice_start(candidate=candidate, domains=[1], count=3, timed=False)
    Attempt.objects.filter(pk=practice.pk).update(
        state=AttemptState.SUBMITTED, submitted_at=practice.started_at + dt.timedelta(minutes=3)
    )
    services.attempt_score(attempt_id=practice.pk)
    client.force_login(candidate)
    response = client.get(own_url(practice))
    text = pdf_text(response)
    assert "Practice session" in text
    assert "never counts towards exam results" in text
    assert "Scaled score" not in text
    assert "practice" in response["Content-Disposition"]


@pytest.mark.parametrize("who", ["other_candidate", "instructor", "manager"])
def test_someone_elses_pdf_is_404(request, client, attempt, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(own_url(attempt)).status_code == 404


def test_anonymous_is_sent_to_login(client, attempt):
    response = client.get(own_url(attempt))
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.parametrize("who", ["manager", "instructor"])
def test_cohort_staff_download_a_members_report(request, client, attempt, candidate, who):
    user = request.getfixturevalue(who)
    cohort = make_cohort(
        managers=[user] if who == "manager" else [],
        instructors=[user] if who == "instructor" else [],
        candidates=[candidate],
    )
    client.force_login(user)
    text = pdf_text(client.get(staff_url(cohort, attempt)))
    assert str(attempt.score.scaled_score) in text
    assert "Coding Knowledge and Skills" in text
    page = client.get(reverse("cohorts:candidate", args=[cohort.pk, candidate.pk])).content.decode()
    assert f'href="{staff_url(cohort, attempt)}"' in page


def test_staff_of_another_cohort_and_other_candidates_get_404(
    client, attempt, candidate, other_candidate, manager, manager_b, instructor
):
    cohort = make_cohort(managers=[manager], candidates=[candidate, other_candidate])
    other_cohort = make_cohort("Cohort B", managers=[manager_b], instructors=[instructor])
    for user in (manager_b, instructor, other_candidate, candidate):
        client.force_login(user)
        assert client.get(staff_url(cohort, attempt)).status_code == 404
    client.force_login(manager_b)
    assert client.get(staff_url(other_cohort, attempt)).status_code == 404
    # The cohort's manager, asking for the attempt under another member's name.
    client.force_login(manager)
    url = reverse("cohorts:candidate_report_pdf", args=[cohort.pk, other_candidate.pk, attempt.pk])
    assert client.get(url).status_code == 404


def test_staff_do_not_get_practice_or_pre_joining_attempts(client, form, candidate, manager):
    cohort = make_cohort(managers=[manager], candidates=[candidate])
    practice = exams_services.practice_start(candidate=candidate, domains=[1], count=3, timed=False)
    Attempt.objects.filter(pk=practice.pk).update(
        state=AttemptState.SUBMITTED, submitted_at=practice.started_at
    )
    before = finished_attempt(
        form, candidate, started_at=dt.datetime(2025, 1, 5, 9, 0, tzinfo=dt.UTC)
    )
    client.force_login(manager)
    for attempt in (practice, before):
        assert client.get(staff_url(cohort, attempt)).status_code == 404


def test_the_pdf_renderer_fetches_only_our_static_files():
    response = static_fetcher("https://report.invalid/static/css/report.css")
    assert b".score-box" in response.read()
    for url in (
        "https://example.org/evil.css",
        "file:///etc/passwd",
        "https://report.invalid/static/../../etc/passwd",
        "https://report.invalid/static/css/missing.css",
    ):
        with pytest.raises(RefusedFetch):
            static_fetcher(url)
