"""Exam delivery follows the cohort's assignment: who sees a form, when, and how often."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from cohorts.models import Assignment, Cohort, Membership
from exams import services
from exams.models import AttemptState
from tests.conftest import program
from tests.factories import published_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def assigned(candidate):
    form = published_form({1: 3}, available_to_all=False, name="Cohort form")
    cohort = Cohort.objects.create(name="Evening class", program=program("a"))
    Membership.objects.create(cohort=cohort, user=candidate)
    assignment = Assignment.objects.create(
        cohort=cohort,
        form=form,
        opens_at=timezone.now() - dt.timedelta(days=1),
        max_attempts=1,
        review_policy="none",
    )
    return form, assignment


def test_only_members_of_an_assigned_cohort_see_the_form(
    client, candidate, other_candidate, assigned
):
    form, _ = assigned
    client.force_login(candidate)
    assert b"Cohort form" in client.get("/exams/").content
    client.force_login(other_candidate)
    assert b"Cohort form" not in client.get("/exams/").content
    assert client.get(f"/exams/forms/{form.pk}/").status_code == 404
    assert client.post(f"/exams/forms/{form.pk}/start/").status_code == 404


def test_used_up_attempts_are_refused_with_the_reason(client, candidate, assigned):
    form, _ = assigned
    attempt = services.attempt_start(form=form, candidate=candidate)
    services.attempt_finalise(attempt_id=attempt.pk, state=AttemptState.SUBMITTED)
    client.force_login(candidate)
    page = client.get(f"/exams/forms/{form.pk}/").content.decode()
    assert "You have used your 1 attempt at this exam." in page
    assert "Start the exam</button>" not in page
    response = client.post(f"/exams/forms/{form.pk}/start/", follow=True)
    assert "You have used your 1 attempt at this exam." in response.content.decode()
    assert form.attempts.count() == 1


def test_closed_window_hides_the_form_and_refuses_a_start(client, candidate, assigned):
    form, assignment = assigned
    Assignment.objects.filter(pk=assignment.pk).update(
        closes_at=timezone.now() - dt.timedelta(minutes=1)
    )
    with pytest.raises(PermissionDenied):
        services.attempt_start(form=form, candidate=candidate)
    client.force_login(candidate)
    assert b"Cohort form" not in client.get("/exams/").content


def test_review_policy_of_the_assignment_decides_answer_review(client, candidate, assigned):
    form, assignment = assigned
    attempt = services.attempt_start(form=form, candidate=candidate)
    services.attempt_finalise(attempt_id=attempt.pk, state=AttemptState.SUBMITTED)
    client.force_login(candidate)
    assert client.get(f"/exams/attempts/{attempt.pk}/result/").context["review"] is None
    Assignment.objects.filter(pk=assignment.pk).update(review_policy="after_submission")
    assert client.get(f"/exams/attempts/{attempt.pk}/result/").context["review"].rows
