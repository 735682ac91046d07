"""Retakes on a form the candidate has not seen: a new form from the blueprint without any
item they saw (and on the scale), else an unseen published form, else a plain repeat."""

from __future__ import annotations

import pytest

from cohorts.selectors import assignable_forms
from exams import retakes, services
from exams.eligibility import assignment_for, attempt_review_allowed
from exams.models import AttemptState, ExamForm, FormItem
from questionbank.models import ItemStatus, ItemVersion
from scoring import services as scoring_services
from scoring.models import AttemptResult, ScaleConversion
from tests.factories import (
    judges,
    operational_versions,
    published_form,
    rate,
    scored_form,
    stock_bank,
)

pytestmark = pytest.mark.django_db

COUNTS = {1: 3, 2: 2}


def rate_bank() -> None:
    """Angoff ratings for every operational item of the bank (a new form can be scaled)."""
    versions = ItemVersion.objects.filter(status=ItemStatus.OPERATIONAL).values_list(
        "pk", flat=True
    )
    rate(list(versions), rating=0.6, judges_=judges(1, prefix="bank-judge"))


def sit(form, candidate, *, state=AttemptState.SUBMITTED):
    attempt = services.attempt_start(form=form, candidate=candidate)
    services.attempt_finalise(attempt_id=attempt.pk, state=state)
    attempt.refresh_from_db()
    return attempt


def items_of(form: ExamForm) -> set[int]:
    return set(FormItem.objects.filter(form=form).values_list("item_version__item_id", flat=True))


@pytest.fixture
def form():
    # The bank holds the form's items and as many again, so a fresh form fits.
    form = scored_form(COUNTS, pretest=1, name="Retake A", allow_review=True)
    stock_bank(COUNTS, pretest=1)
    rate_bank()
    return form


def test_a_retake_gets_a_new_form_without_any_item_seen_and_is_scored(client, candidate, form):
    first = sit(form, candidate)
    assert first.form_id == form.pk and first.assigned_form_id is None
    client.force_login(candidate)
    page = client.get(f"/exams/forms/{form.pk}/").content.decode()
    assert "Attempt 2: a form you have not taken" in page
    assert "none of the questions you have seen" in page

    second = services.attempt_start(form=form, candidate=candidate)
    assert second.form_id != form.pk
    assert second.assigned_form_id == form.pk
    new = second.form
    assert new.is_published and not new.available_to_all
    # Personal: never offered to staff to assign or link.
    assert new.retake_of_id == form.pk
    assert new not in assignable_forms(program_id=None)
    assert form in assignable_forms(program_id=None)
    assert new.time_limit_minutes == form.time_limit_minutes
    assert new.items.count() == form.items.count()
    assert new.items.filter(is_pretest=True).count() == form.items.filter(is_pretest=True).count()
    assert not items_of(new) & items_of(form)  # pretest items included
    # On the scale: the new form has its table, and the retake is scored with it.
    assert ScaleConversion.objects.filter(form=new).exists()
    services.attempt_finalise(attempt_id=second.pk, state=AttemptState.SUBMITTED)
    scoring_services.attempt_score(attempt_id=second.pk)
    assert AttemptResult.objects.get(attempt=second).scaled_score is not None
    # It counts under the assignment, and its review follows the assigned form's terms.
    assert assignment_for(user=candidate, form=form).attempts_used == 2
    second.refresh_from_db()
    assert attempt_review_allowed(attempt=second)


def test_starting_again_resumes_the_retake_in_progress(client, candidate, form):
    sit(form, candidate)
    second = services.attempt_start(form=form, candidate=candidate)
    assert services.attempt_start(form=form, candidate=candidate).pk == second.pk
    client.force_login(candidate)
    page = client.get(f"/exams/forms/{form.pk}/").content.decode()
    assert "Resume the exam" in page and "retake-notice" not in page
    assert ExamForm.objects.filter(name__contains="retake form").count() == 1


def test_a_third_attempt_avoids_both_earlier_forms(candidate, form):
    stock_bank(COUNTS, pretest=1)
    rate_bank()
    sit(form, candidate)
    second = sit(form, candidate)
    third = services.attempt_start(form=form, candidate=candidate)
    assert third.form_id not in (form.pk, second.form_id)
    assert not items_of(third.form) & (items_of(form) | items_of(second.form))


def test_without_fresh_items_an_unseen_published_form_is_given(client, candidate):
    form = published_form(COUNTS, name="Only A")
    # Form B of the same blueprint shares items with A: the bank has too few fresh ones
    # for a new form, but B has not been sat.
    stock_bank({1: 1})
    other = services.form_assemble(
        blueprint=form.blueprint,
        seed=9,
        name="Only B",
        exclude_versions=operational_versions(form),
        owner_program_id=None,
    )
    rate(operational_versions(other), rating=0.6, judges_=judges(1, prefix="b-judge"))
    other = services.form_publish(form=other)
    sit(form, candidate)
    plan = services.retake_plan(candidate=candidate, form=form)
    assert plan.kind == "unseen" and plan.form == other
    client.force_login(candidate)
    page = client.get(f"/exams/forms/{form.pk}/").content.decode()
    assert "another form of this exam that you have not taken" in page
    assert f"shares {plan.shared_items} question" in page and plan.shared_items > 0
    second = services.attempt_start(form=form, candidate=candidate)
    assert (second.form_id, second.assigned_form_id) == (other.pk, form.pk)


def test_when_nothing_unseen_is_left_the_page_says_it_is_a_repeat(client, candidate):
    form = published_form(COUNTS, name="Lonely")
    sit(form, candidate)
    client.force_login(candidate)
    page = client.get(f"/exams/forms/{form.pk}/").content.decode()
    assert "a repeat of a form you have taken" in page
    assert "This is a repeat: you will see the same questions" in page
    second = services.attempt_start(form=form, candidate=candidate)
    assert (second.form_id, second.assigned_form_id) == (form.pk, None)
    assert not ExamForm.objects.filter(name__contains="retake form").exists()


def test_a_new_form_that_cannot_be_scaled_is_not_built(client, candidate):
    form = published_form(COUNTS, name="Unrated")
    stock_bank(COUNTS)  # fresh items, but neither rated nor calibrated
    sit(form, candidate)
    plan = services.retake_plan(candidate=candidate, form=form)
    assert plan.kind == "repeat"
    assert "could not be scored on the scale" in plan.reason
    client.force_login(candidate)
    assert (
        "could not be scored on the scale"
        in client.get(f"/exams/forms/{form.pk}/").content.decode()
    )
    second = services.attempt_start(form=form, candidate=candidate)
    assert second.form_id == form.pk
    assert not ExamForm.objects.filter(name__contains="retake form").exists()


def test_a_first_attempt_is_never_a_retake(client, candidate, form):
    client.force_login(candidate)
    assert "retake-notice" not in client.get(f"/exams/forms/{form.pk}/").content.decode()
    assert services.retake_plan(candidate=candidate, form=form).kind == "first"


def test_a_programs_retake_form_needs_the_panel_its_cut_would_need(settings):
    # The scale check answers as form_conversion_build will: a program's own form takes
    # its cut from a panel, so one judge's ratings are no way onto the scale for it.
    settings.CCS_MIN_ANGOFF_JUDGES = 2
    stock_bank(COUNTS)
    versions = list(
        ItemVersion.objects.filter(status=ItemStatus.OPERATIONAL).values_list("pk", flat=True)
    )
    rate(versions, rating=0.6, judges_=judges(1, prefix="lone-judge"))
    check = retakes._scale_check
    assert check.obstacle(blueprint_id=0, version_ids=versions, program_owned=False) is None
    why = check.obstacle(blueprint_id=0, version_ids=versions, program_owned=True)
    assert why == "its items' Angoff ratings come from 1 judge; a program's form needs a panel of 2"
    rate(versions, rating=0.6, judges_=judges(1, prefix="second-judge"))
    assert check.obstacle(blueprint_id=0, version_ids=versions, program_owned=True) is None
