"""Starting an exam asks the cohorts once (start_check, one query): it must give the same
answers as the list of forms offered and the terms of a sitting, asked separately."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cohorts import eligibility as cohort_eligibility
from cohorts.models import Accommodation, Assignment
from exams.models import Attempt, ExamForm
from exams.selectors import delivered_form
from exams.services import form_delivery_rows
from tests.conftest import program

from .conftest import T0, make_cohort, make_form, sit

pytestmark = pytest.mark.django_db
NOW = T0 + dt.timedelta(days=10)
DAY = dt.timedelta(days=1)


def two_step(user, form):
    """What start used to ask: is the form offered, and then on which terms."""
    offered = cohort_eligibility.forms_available_to(user=user, now=NOW).filter(pk=form.pk)
    if not offered.exists():
        return None
    return cohort_eligibility.assignment_for(user=user, form=form, now=NOW)


@pytest.fixture
def world(manager, candidate, other_candidate, instructor):
    cohort = make_cohort("Assigned", managers=[manager], candidates=[candidate])
    second = make_cohort("Second", managers=[manager], candidates=[candidate])
    make_cohort("Elsewhere", managers=[manager], candidates=[other_candidate])
    b_cohort = make_cohort("B", program=program("b"), candidates=[other_candidate])
    forms = {
        name: make_form(name)
        for name in ("open", "closed", "future", "unassigned", "two cohorts", "used up")
    }
    forms["for all"] = make_form("for all", available_to_all=True, allow_review=True)
    forms["closed for all"] = make_form("closed for all", available_to_all=True)
    forms["program b"] = make_form("program b", available_to_all=True, owner_program=program("b"))
    forms["draft"] = ExamForm.objects.create(name="draft", available_to_all=True)
    windows = [
        ("open", cohort, NOW - DAY, NOW + DAY, 2, "after_close"),
        ("closed", cohort, NOW - 5 * DAY, NOW - DAY, 2, "none"),
        ("future", cohort, NOW + DAY, None, 2, "none"),
        ("closed for all", cohort, NOW - 5 * DAY, NOW - DAY, 1, "none"),
        # Of two cohorts' terms the most generous apply: unlimited attempts win.
        ("two cohorts", cohort, NOW - DAY, NOW + DAY, 3, "none"),
        ("two cohorts", second, NOW - 2 * DAY, None, None, "after_submission"),
        ("used up", cohort, NOW - DAY, None, 1, "none"),
    ]
    for name, to, opens, closes, attempts, policy in windows:
        Assignment.objects.create(
            cohort=to, form=forms[name], opens_at=opens, closes_at=closes,
            max_attempts=attempts, review_policy=policy,
        )  # fmt: skip
    Assignment.objects.create(cohort=b_cohort, form=forms["open"], opens_at=NOW - DAY)
    Accommodation.objects.create(program=cohort.program, user=candidate, time_multiplier="1.50")
    Accommodation.objects.create(program=program("b"), user=other_candidate, time_multiplier="2.00")
    sit(candidate, forms["used up"])
    sit(candidate, forms["open"], state="in_progress")
    return forms


def test_start_check_agrees_with_the_offer_and_the_terms_for_every_case(
    world, candidate, other_candidate, instructor, manager
):
    compared = 0
    for user in (candidate, other_candidate, instructor, manager):
        for form in world.values():
            check = cohort_eligibility.start_check(user=user, form_id=form.pk, now=NOW)
            assert check.form.pk == form.pk
            assert check.terms == two_step(user, form), (user.username, form.name)
            resume = Attempt.objects.filter(candidate=user, form=form, state="in_progress").first()
            assert check.resume_id == (resume.pk if resume else None)
            compared += check.terms is not None
    # The comparison covered real terms, not only refusals.
    assert compared >= 6


def test_start_check_carries_the_accommodation_of_the_assigning_program(world, candidate):
    check = cohort_eligibility.start_check(user=candidate, form_id=world["open"].pk, now=NOW)
    assert check.terms.time_multiplier == Decimal("1.50")
    assert check.resume_id is not None
    used_up = cohort_eligibility.start_check(user=candidate, form_id=world["used up"].pk, now=NOW)
    assert used_up.terms.attempts_used == 1 and used_up.terms.refusal(NOW)


def test_start_check_of_a_missing_form(candidate):
    assert cohort_eligibility.start_check(user=candidate, form_id=987654, now=NOW).form is None


def test_starting_costs_one_read_and_one_insert(client, candidate):
    form = make_form("one read", available_to_all=True)
    client.force_login(candidate)
    client.get("/exams/")  # the session is stored and cached
    form_delivery_rows(form=form)  # the form's layout rows are cached once per form
    delivered_form(form.pk)  # and the published form kept in the worker's memory once
    with CaptureQueriesContext(connection) as ctx:
        response = client.post(f"/exams/forms/{form.pk}/start/")
    assert response.status_code == 302
    statements = [q["sql"].lstrip().split()[0].upper() for q in ctx.captured_queries]
    # The user (authentication), start_check, the INSERT. The savepoint around the INSERT
    # is there only because the test runs inside a transaction (outside one, no BEGIN
    # or COMMIT either: the INSERT commits on its own).
    assert statements.count("INSERT") == 1
    assert [s for s in statements if s not in ("SAVEPOINT", "RELEASE")] == [
        "SELECT",
        "SELECT",
        "INSERT",
    ]
    assert Attempt.objects.filter(candidate=candidate, form=form).count() == 1


def test_a_form_kept_in_memory_still_answers_to_its_row(candidate):
    """The worker keeps a published form (delivered_form), but whether it is open to all,
    the one field a published form may change, comes from the row on every start."""
    form = make_form("kept", available_to_all=True)
    assert cohort_eligibility.start_check(user=candidate, form_id=form.pk, now=NOW).terms
    kept = delivered_form(form.pk)
    assert kept.available_to_all
    ExamForm.objects.filter(pk=form.pk).update(available_to_all=False)
    check = cohort_eligibility.start_check(user=candidate, form_id=form.pk, now=NOW)
    assert check.terms is None and check.form.available_to_all is False
    assert delivered_form(form.pk).available_to_all  # the kept copy is not changed


def test_a_form_id_beyond_any_integer_column_is_no_form(candidate):
    check = cohort_eligibility.start_check(user=candidate, form_id=10**25)
    assert (check.form, check.resume_id, check.terms) == (None, None, None)
