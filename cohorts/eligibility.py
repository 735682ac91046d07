"""What a candidate may sit, answered for exam delivery (registered in CohortsConfig.ready).

A form is theirs through an assignment to one of their cohorts (its window, attempt limit
and review policy are the terms), or because an instructor opened it to everyone and no
assignment of theirs says otherwise.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Max, Q
from django.utils import timezone

from cohorts.models import Accommodation, Assignment, Membership
from common.roles import Role, user_role
from exams.eligibility import AssignmentTerms, open_form_terms
from exams.models import Attempt, ExamForm


class CohortEligibility:
    def forms_available_to(self, *, user, now: dt.datetime):
        return forms_available_to(user=user, now=now)

    def assignment_for(self, *, user, form: ExamForm, now: dt.datetime):
        return assignment_for(user=user, form=form, now=now)

    def own_time_multiplier(self, *, user) -> Decimal:
        return own_time_multiplier(user=user)

    def candidate_program_ids(self, *, user) -> set[int]:
        return candidate_program_ids(user=user)


def candidate_program_ids(*, user) -> set[int]:
    return set(
        Membership.objects.filter(user_id=user.pk).values_list("cohort__program_id", flat=True)
    )


def own_time_multiplier(*, user) -> Decimal:
    """Outside any assignment (practice, a form open to everyone) no program's terms
    apply; the candidate's own study gets the most generous extra time any of their
    programs grants them."""
    value = Accommodation.objects.filter(user_id=user.pk).aggregate(m=Max("time_multiplier"))["m"]
    return value if value is not None else Decimal("1.00")


def _multiplier(*, user, program_id: int) -> Decimal:
    value = (
        Accommodation.objects.filter(program_id=program_id, user_id=user.pk)
        .values_list("time_multiplier", flat=True)
        .first()
    )
    return value if value is not None else Decimal("1.00")


def forms_available_to(*, user, now: dt.datetime | None = None):
    """Published exam forms the user may open now: assigned to one of their cohorts with
    an open window, or made available to everyone by an instructor and not assigned to
    them (an assignment's terms come first, as in `assignment_for`: a form open to all
    whose assignment has closed is not offered only to be refused)."""
    now = now or timezone.now()
    if not user.is_authenticated or user_role(user) in (Role.INSTRUCTOR, Role.MANAGER):
        # Staff try forms through the admin's preview: an exam attempt of theirs would
        # count in item analysis and calibration as a candidate's.
        return ExamForm.objects.none()
    assignments = Assignment.objects.for_candidate(user)
    open_now = assignments.open_at(now).values("form_id")
    # A program's own form opened "to everyone" is open to that program's candidates.
    everyone = ExamForm.objects.usable_by(candidate_program_ids(user=user)).values("pk")
    return (
        ExamForm.objects.exams()
        .published()
        .filter(
            Q(pk__in=open_now)
            | (
                Q(available_to_all=True)
                & Q(pk__in=everyone)
                & ~Q(pk__in=assignments.values("form_id"))
            )
        )
        .order_by("name")
    )


def _preference(assignment: Assignment, now: dt.datetime):
    # Of several cohorts assigning the same form, the most generous terms apply: an open
    # window first, then the most attempts, then the latest close.
    unlimited = assignment.max_attempts is None
    closes = assignment.closes_at or dt.datetime.max.replace(tzinfo=dt.UTC)
    return (assignment.is_open(now), unlimited, assignment.max_attempts or 0, closes)


def assignment_for(*, user, form: ExamForm, now: dt.datetime | None = None):
    """The terms under which `user` sits `form`, or None if it is not theirs to sit.

    Three queries: the user's assignments of the form, their exam attempts on it, and the
    accommodation of the program whose assignment applies.
    """
    now = now or timezone.now()
    if not user.is_authenticated:
        return None
    assignments = list(
        Assignment.objects.for_candidate(user)
        .filter(form_id=form.pk)
        .select_related("cohort")
        .order_by("pk")
    )
    # Retakes sat on another form count under the assigned one (exams.retakes).
    used = (
        Attempt.objects.exams()
        .filter(Q(form_id=form.pk) | Q(assigned_form_id=form.pk), candidate_id=user.pk)
        .count()
    )
    if assignments:
        best = max(assignments, key=lambda a: _preference(a, now))
        return AssignmentTerms(
            form_id=form.pk,
            assignment_id=best.pk,
            cohort_id=best.cohort_id,
            opens_at=best.opens_at,
            closes_at=best.closes_at,
            max_attempts=best.max_attempts,
            attempts_used=used,
            review_policy=best.review_policy,
            program_id=best.cohort.program_id,
            time_multiplier=_multiplier(user=user, program_id=best.cohort.program_id),
        )
    if (
        form.available_to_all
        and form.is_published
        and (
            form.owner_program_id is None
            or form.owner_program_id in candidate_program_ids(user=user)
        )
    ):
        return open_form_terms(
            form=form, attempts_used=used, time_multiplier=own_time_multiplier(user=user)
        )
    return None
