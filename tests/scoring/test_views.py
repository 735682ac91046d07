"""The score report and history pages, tried by each of the people."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from exams import services as exams_services
from exams.models import Attempt, AttemptState
from scoring import services
from tests.factories import bank_items, finished_attempt, scored_form

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-1"


@pytest.fixture
def form():
    # 10 scored items rated 0.6 → cut 6; two pretest items.
    # Program A's form: its instructor (the fixture) may override its cut.
    return scored_form({1: 6, 2: 4}, pretest=2, rating=0.6, name="Mock A", program="a")


@pytest.fixture
def attempt(form, candidate):
    started = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    attempt = finished_attempt(
        form,
        candidate,
        correct=lambda fi: fi.is_pretest or fi.position % 5 != 0,
        started_at=started,
        minutes_used=45,
        program="a",  # sat under an assignment of program A
    )
    services.attempt_score(attempt_id=attempt.pk)
    return attempt


def client_for(client, user):
    client.force_login(user)
    return client


def report_url(attempt):
    return reverse("scoring:report", args=[attempt.pk])


def test_owner_sees_scaled_score_pass_domains_time_and_date(client, candidate, attempt):
    result = attempt.score
    response = client_for(client, candidate).get(report_url(attempt))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<strong id="scaled-score">{result.scaled_score}</strong>' in html
    assert ("Pass" if result.passed else "Did not pass") in html
    assert '<svg class="chart domain-chart"' in html
    assert "Percent correct per domain" in html
    assert "1. Coding Knowledge and Skills" in html and "2. Coding Documentation" in html
    assert "45 min of 1 h 00 min" in html
    assert "Mar 2, 2026" in html
    assert "10 percentage points" in html  # the band margin is stated


def test_time_used_is_capped_at_the_deadline_for_an_expired_attempt(client, candidate, form):
    started = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    attempt = finished_attempt(
        form, candidate, started_at=started, minutes_used=300, state=AttemptState.EXPIRED
    )
    services.attempt_score(attempt_id=attempt.pk)
    html = client_for(client, candidate).get(report_url(attempt)).content.decode()
    assert "1 h 00 min of 1 h 00 min (time ran out)" in html


@pytest.mark.parametrize("who", ["other_candidate", "instructor", "manager"])
def test_someone_elses_report_is_404(request, client, attempt, who):
    user = request.getfixturevalue(who)
    assert client_for(client, user).get(report_url(attempt)).status_code == 404


def test_anonymous_is_sent_to_login(client, attempt):
    for url in (report_url(attempt), reverse("scoring:history")):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


def test_report_of_an_attempt_in_progress_goes_back_to_the_exam(client, candidate, form):
    # Program A's form, open to everyone in program A: the candidate is in one of its cohorts.
    from cohorts.models import Cohort, Membership
    from tests.conftest import program

    Membership.objects.create(
        cohort=Cohort.objects.create(name="A", program=program("a")), user=candidate
    )
    attempt = exams_services.attempt_start(form=form, candidate=candidate)
    response = client_for(client, candidate).get(report_url(attempt))
    assert response.status_code == 302
    assert response.url == reverse("exams:attempt", args=[attempt.pk])


def test_report_before_scoring_says_so_and_reloads(client, candidate, form):
    attempt = finished_attempt(form, candidate)
    html = client_for(client, candidate).get(report_url(attempt)).content.decode()
    assert 'id="score-pending"' in html
    assert '<meta http-equiv="refresh"' in html
    assert 'id="scaled-score"' not in html


def test_answer_review_only_when_the_form_allows_it(client, candidate, attempt):
    html = client_for(client, candidate).get(report_url(attempt)).content.decode()
    assert "Rationale:" not in html
    assert "does not offer an answer review" in html

    open_form = scored_form({1: 2}, allow_review=True, name="Open review")
    reviewed = finished_attempt(open_form, candidate)
    services.attempt_score(attempt_id=reviewed.pk)
    html = client.get(report_url(reviewed)).content.decode()
    assert "Rationale:" in html and "Because the guideline says so" in html
    assert "(your answer)" in html and "(key)" in html


def test_practice_report_has_review_and_no_scaled_score_or_history(client, candidate, attempt):
    bank_items(1, 3)
    practice = exams_services.practice_start(candidate=candidate, domains=[1], count=3, timed=False)
    Attempt.objects.filter(pk=practice.pk).update(
        state=AttemptState.SUBMITTED, submitted_at=practice.started_at + dt.timedelta(minutes=3)
    )
    services.attempt_score(attempt_id=practice.pk)
    html = client_for(client, candidate).get(report_url(practice)).content.decode()
    assert "Practice never counts towards your exam results" in html
    assert 'id="scaled-score"' not in html
    assert "Rationale:" in html
    assert "Your exam history" not in html


def test_report_includes_the_history_with_its_chart_and_table(client, candidate, attempt):
    html = client_for(client, candidate).get(report_url(attempt)).content.decode()
    assert "Your exam history" in html
    assert 'aria-labelledby="trend-title" aria-describedby="trend-desc"' in html
    assert "Scaled scores of your 1 exam attempt</title>" in html
    assert 'aria-current="true"' in html


def test_history_lists_exams_only_with_a_trend_chart(client, candidate, form, attempt):
    second = finished_attempt(form, candidate, correct=True)
    services.attempt_score(attempt_id=second.pk)
    bank_items(1, 2)
    practice = exams_services.practice_start(candidate=candidate, domains=[1], count=2, timed=False)
    Attempt.objects.filter(pk=practice.pk).update(
        state=AttemptState.SUBMITTED, submitted_at=practice.started_at
    )
    services.attempt_score(attempt_id=practice.pk)

    html = client_for(client, candidate).get(reverse("scoring:history")).content.decode()
    assert "Scaled scores of your 2 exam attempts</title>" in html
    assert html.count(">Report</a>") == 2
    assert reverse("scoring:report", args=[practice.pk]) not in html
    assert "400" in html


def test_history_empty_state(client, other_candidate, attempt):
    html = client_for(client, other_candidate).get(reverse("scoring:history")).content.decode()
    assert "You have not finished an exam yet" in html
    assert "<svg" not in html


def test_report_and_history_queries_do_not_grow_with_items(
    client, candidate, attempt, django_assert_max_num_queries
):
    client_for(client, candidate)
    with django_assert_max_num_queries(15):
        client.get(report_url(attempt))


# --- Admin: instructors see the table; two of them change the cut ----------------------------
def test_instructor_sees_the_table_the_cut_and_its_derivation(client, instructor, form):
    conversion = form.conversion
    url = reverse("admin:scoring_scaleconversion_change", args=[conversion.pk])
    html = client_for(client, instructor).get(url).content.decode()
    assert "Modified Angoff" in html
    assert "2 judges, 20 ratings on 10 operational items" in html
    assert "6.00" in html  # the cut
    assert "<b>300</b>" in html and "Propose a new cut" in html


def _propose_and_confirm(client, proposer, confirmer, conversion, cut, reason, capture=None):
    url = reverse("admin:scoring_scaleconversion_propose", args=[conversion.pk])
    client_for(client, proposer)
    response = client.post(url, {"cut": cut, "reason": reason})
    assert response.status_code == 302
    client.logout()
    client_for(client, confirmer)
    decide = response["Location"]
    if capture is None:
        return client.post(decide, {"decision": "confirm"})
    with capture(execute=True):
        return client.post(decide, {"decision": "confirm"})


def test_instructors_change_the_cut_in_the_admin_two_people(client, instructor, reviewer, form):
    conversion = form.conversion
    url = reverse("admin:scoring_scaleconversion_propose", args=[conversion.pk])
    client_for(client, instructor)
    assert client.get(url).status_code == 200
    response = client.post(url, {"cut": "7", "reason": ""})
    assert response.status_code == 400 and "This field is required" in response.content.decode()
    client.logout()
    response = _propose_and_confirm(
        client, instructor, reviewer, conversion, "7", "Second panel review"
    )
    assert response.status_code == 302
    conversion.refresh_from_db()
    assert (conversion.cut, conversion.raw_passing_score) == (7.0, 7)
    assert conversion.overridden_by == reviewer
    html = client.get(reverse("admin:scoring_scaleconversion_change", args=[conversion.pk]))
    assert "Reason: Second panel review (proposed by Instr, confirmed by Reviewer)" in (
        html.content.decode()
    )
    assert "6.00 (Modified Angoff cut) → 7.00" in html.content.decode()


def test_an_override_after_scoring_rescores_and_the_report_notes_the_change(
    client, instructor, reviewer, candidate, attempt, django_capture_on_commit_callbacks
):
    before = attempt.score
    assert before.passed and before.raw_score < 10
    conversion = attempt.form.conversion
    client_for(client, instructor)
    change = client.get(reverse("admin:scoring_scaleconversion_change", args=[conversion.pk]))
    assert "Propose a new cut" in change.content.decode()
    url = reverse("admin:scoring_scaleconversion_propose", args=[conversion.pk])
    assert "1 scored attempt on this form would be rescored" in client.get(url).content.decode()
    client.logout()
    response = _propose_and_confirm(
        client,
        instructor,
        reviewer,
        conversion,
        "9.5",
        "Second panel review",
        capture=django_capture_on_commit_callbacks,
    )
    assert response.status_code == 302

    client.logout()
    client_for(client, candidate)
    html = client.get(report_url(attempt)).content.decode()
    assert 'id="result-change"' in html
    assert "Second panel review" in html
    assert f"Before: {before.scaled_score} (pass)" in html
    assert "Did not pass" in html
    history = client.get(reverse("scoring:history")).content.decode()
    assert "Did not pass" in history


def test_an_unchanged_result_has_no_change_note(client, candidate, attempt):
    html = client_for(client, candidate).get(report_url(attempt)).content.decode()
    assert "result-change" not in html


def test_candidates_cannot_propose_and_a_managers_proposal_waits_for_a_second_person(
    client, candidate, manager, form
):
    url = reverse("admin:scoring_scaleconversion_propose", args=[form.conversion.pk])
    assert client_for(client, candidate).get(url).status_code == 302  # not staff: admin login
    client.logout()
    response = client_for(client, manager).post(url, {"cut": "7", "reason": "x"})
    assert response.status_code in (302, 403)
    form.conversion.refresh_from_db()
    assert form.conversion.method == "angoff"


def test_results_admin_filters_by_exam_forms_without_listing_practice_sets(
    client, instructor, candidate, attempt
):
    practice = exams_services.practice_start(candidate=candidate, domains=[1], count=3, timed=False)
    Attempt.objects.filter(pk=practice.pk).update(
        state=AttemptState.SUBMITTED, submitted_at=practice.started_at + dt.timedelta(minutes=3)
    )
    services.attempt_score(attempt_id=practice.pk)
    other = scored_form({1: 3}, rating=0.6, name="Mock B")
    services.attempt_score(attempt_id=finished_attempt(other, candidate, program="a").pk)
    # Sat under program B's assignment: not program A's to list.
    elsewhere = scored_form({1: 3}, rating=0.6, name="Mock C")
    services.attempt_score(attempt_id=finished_attempt(elsewhere, candidate, program="b").pk)
    response = client_for(client, instructor).get(reverse("admin:scoring_attemptresult_changelist"))
    assert response.status_code == 200
    spec = next(
        f
        for f in response.context["cl"].filter_specs
        if getattr(f, "field_path", "") == "attempt__form"
    )
    labels = [label for _, label in spec.lookup_choices]
    assert sorted(labels) == sorted([attempt.form.name, "Mock B"])
    # Program A's two exam results; the practice result is the candidate's own (sat under
    # no program) and program B's is B's.
    assert response.context["cl"].result_count == 2
