"""What exam delivery asks the cohorts: which forms, and on what terms."""

import datetime as dt

import pytest
import time_machine

from cohorts import eligibility as cohort_eligibility
from cohorts.models import Assignment
from exams import eligibility as exam_eligibility

from .conftest import T0, make_cohort, make_form, sit

pytestmark = pytest.mark.django_db
NOW = T0 + dt.timedelta(days=10)


@pytest.fixture
def setup(manager, candidate, other_candidate):
    cohort = make_cohort("Assigned", managers=[manager], candidates=[candidate])
    make_cohort("Elsewhere", managers=[manager], candidates=[other_candidate])
    forms = {name: make_form(name) for name in ("open", "closed", "future", "unassigned")}
    window = {
        "open": (NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=1)),
        "closed": (NOW - dt.timedelta(days=5), NOW - dt.timedelta(days=1)),
        "future": (NOW + dt.timedelta(days=1), None),
    }
    for name, (opens, closes) in window.items():
        Assignment.objects.create(
            cohort=cohort, form=forms[name], opens_at=opens, closes_at=closes, max_attempts=2,
            review_policy="after_close" if closes else "none",
        )  # fmt: skip
    return cohort, forms


def names(queryset):
    return sorted(f.name for f in queryset)


def test_candidates_see_forms_assigned_to_them_with_an_open_window(
    setup, candidate, other_candidate
):
    assert names(cohort_eligibility.forms_available_to(user=candidate, now=NOW)) == ["open"]
    assert names(cohort_eligibility.forms_available_to(user=other_candidate, now=NOW)) == []


def test_forms_open_to_everyone_stay_visible_and_drafts_never_are(setup, candidate):
    from exams.models import ExamForm

    make_form("for all", available_to_all=True)
    ExamForm.objects.create(name="draft for all", available_to_all=True)
    assert names(cohort_eligibility.forms_available_to(user=candidate, now=NOW)) == [
        "for all",
        "open",
    ]


def test_terms_enforce_the_window_and_the_attempt_limit(setup, candidate):
    _, forms = setup
    terms = cohort_eligibility.assignment_for(user=candidate, form=forms["open"], now=NOW)
    assert terms.max_attempts == 2 and terms.attempts_left == 2 and terms.refusal(NOW) is None
    sit(candidate, forms["open"], day=9, scaled=250)
    sit(candidate, forms["open"], day=9, mode="practice")  # practice is not an attempt used
    sit(candidate, forms["open"], day=10, scaled=260)
    terms = cohort_eligibility.assignment_for(user=candidate, form=forms["open"], now=NOW)
    assert terms.attempts_used == 2
    assert terms.refusal(NOW) == "You have used your 2 attempts at this exam."
    closed = cohort_eligibility.assignment_for(user=candidate, form=forms["closed"], now=NOW)
    assert closed.refusal(NOW).startswith("This exam closed on")
    future = cohort_eligibility.assignment_for(user=candidate, form=forms["future"], now=NOW)
    assert future.refusal(NOW).startswith("This exam opens on")
    assert (
        cohort_eligibility.assignment_for(user=candidate, form=forms["unassigned"], now=NOW) is None
    )


def test_review_after_the_window_closes(setup, candidate):
    _, forms = setup
    attempt = sit(candidate, forms["open"], day=9, scaled=300)
    closes = NOW + dt.timedelta(days=1)
    for moment, allowed in [(closes - dt.timedelta(seconds=1), False), (closes, True)]:
        with time_machine.travel(moment, tick=False):
            assert exam_eligibility.attempt_review_allowed(attempt=attempt) is allowed


def test_review_never_and_after_submission(setup, candidate, manager):
    _, forms = setup
    assignment = Assignment.objects.get(form=forms["future"])
    attempt = sit(candidate, forms["future"], day=12, scaled=300)
    later = NOW + dt.timedelta(days=3)
    assert exam_eligibility.attempt_review_allowed(attempt=attempt, now=later) is False
    assignment.review_policy = "after_submission"
    assignment.save()
    assert exam_eligibility.attempt_review_allowed(attempt=attempt, now=later) is True
    in_progress = sit(candidate, forms["open"], day=12, state="in_progress")
    assert exam_eligibility.attempt_review_allowed(attempt=in_progress, now=later) is False


def test_of_two_cohorts_assigning_a_form_the_more_generous_terms_apply(setup, candidate, manager):
    _, forms = setup
    second = make_cohort("Second", managers=[manager], candidates=[candidate])
    Assignment.objects.create(
        cohort=second, form=forms["closed"], opens_at=NOW - dt.timedelta(days=2), max_attempts=None
    )
    terms = cohort_eligibility.assignment_for(user=candidate, form=forms["closed"], now=NOW)
    assert (
        terms.cohort_id == second.pk and terms.max_attempts is None and terms.refusal(NOW) is None
    )
    assert "closed" in names(cohort_eligibility.forms_available_to(user=candidate, now=NOW))


def test_a_form_open_to_all_without_assignment_follows_the_forms_own_review_flag(candidate):
    form = make_form("self-study", available_to_all=True, allow_review=True)
    terms = cohort_eligibility.assignment_for(user=candidate, form=form, now=NOW)
    assert terms.assignment_id is None and terms.max_attempts is None
    assert terms.review_policy == "after_submission"


def test_a_form_open_to_all_follows_the_candidates_assignment_when_there_is_one(
    setup, candidate, other_candidate
):
    _, forms = setup
    # "closed" is assigned to candidate's cohort with a window that has closed.
    forms["closed"].available_to_all = True
    forms["closed"].save()
    offered = names(cohort_eligibility.forms_available_to(user=candidate, now=NOW))
    terms = cohort_eligibility.assignment_for(user=candidate, form=forms["closed"], now=NOW)
    # Not offered, since it would be refused: the list and the terms agree.
    assert "closed" not in offered and terms.refusal(NOW).startswith("This exam closed on")
    # Someone without that assignment sits it as anyone may.
    assert "closed" in names(cohort_eligibility.forms_available_to(user=other_candidate, now=NOW))
    assert (
        cohort_eligibility.assignment_for(
            user=other_candidate, form=forms["closed"], now=NOW
        ).refusal(NOW)
        is None
    )


def test_staff_do_not_sit_exams_that_would_count_as_candidates(manager, instructor, client):
    from django.core.exceptions import PermissionDenied
    from django.urls import reverse

    from exams.services import attempt_start

    form = make_form("for all", available_to_all=True)
    for person in (manager, instructor):
        assert names(cohort_eligibility.forms_available_to(user=person, now=NOW)) == []
        with pytest.raises(PermissionDenied):
            attempt_start(form=form, candidate=person)
        client.force_login(person)
        assert client.post(reverse("exams:start", args=[form.pk])).status_code == 404
    assert not form.attempts.exists()
