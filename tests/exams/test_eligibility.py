"""Delivery asks who may sit what through exams.eligibility; cohorts answers from ready()."""

from __future__ import annotations

import pytest

from cohorts.eligibility import CohortEligibility
from exams import eligibility
from exams.models import ReviewPolicy
from tests.factories import published_form


def test_cohorts_registered_its_answers_when_the_apps_were_ready():
    assert isinstance(eligibility._eligibility, CohortEligibility)


@pytest.mark.django_db
def test_without_a_registration_only_forms_open_to_everyone_are_offered(candidate, monkeypatch):
    monkeypatch.setattr(eligibility, "_eligibility", eligibility.OpenFormsOnly())
    open_form = published_form({1: 2}, name="Open", available_to_all=True)
    closed_form = published_form({1: 2}, name="Closed", available_to_all=False, seed=2)
    offered = list(eligibility.forms_available_to(user=candidate))
    assert offered == [open_form]
    terms = eligibility.assignment_for(user=candidate, form=open_form)
    assert terms.assignment_id is None and terms.max_attempts is None
    assert terms.review_policy in (ReviewPolicy.AFTER_SUBMISSION, ReviewPolicy.NONE)
    assert eligibility.assignment_for(user=candidate, form=closed_form) is None


@pytest.mark.django_db
def test_without_a_registration_a_start_opens_resumes_and_refuses_as_offered(
    candidate, monkeypatch
):
    from django.core.exceptions import PermissionDenied

    from exams import services

    monkeypatch.setattr(eligibility, "_eligibility", eligibility.OpenFormsOnly())
    open_form = published_form({1: 2}, name="Open", available_to_all=True)
    closed_form = published_form({1: 2}, name="Closed", available_to_all=False, seed=2)
    check = eligibility.start_check(user=candidate, form_id=open_form.pk)
    assert check.form == open_form and check.resume_id is None and check.terms.attempts_used == 0
    attempt = services.attempt_start(form_id=open_form.pk, candidate=candidate)
    assert eligibility.start_check(user=candidate, form_id=open_form.pk).resume_id == attempt.pk
    assert services.attempt_start(form=open_form, candidate=candidate) == attempt
    assert eligibility.start_check(user=candidate, form_id=closed_form.pk).terms is None
    with pytest.raises(PermissionDenied):
        services.attempt_start(form=closed_form, candidate=candidate)
    assert eligibility.start_check(user=candidate, form_id=987654).form is None
