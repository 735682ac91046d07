"""What a candidate may sit, answered for exam delivery (registered in CohortsConfig.ready).

A form is theirs through an assignment to one of their cohorts (its window, attempt limit
and review policy are the terms), or because an instructor opened it to everyone and no
assignment of theirs says otherwise.
"""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from cohorts.models import Accommodation, Assignment, Cohort, Membership
from common.roles import Role, user_role
from common.rows import fits_bigint
from exams.eligibility import AssignmentTerms, StartCheck, open_form_terms
from exams.models import Attempt, AttemptMode, AttemptState, ExamForm, FormKind, FormStatus
from exams.selectors import delivered_form


class CohortEligibility:
    def forms_available_to(self, *, user, now: dt.datetime):
        return forms_available_to(user=user, now=now)

    def assignment_for(self, *, user, form: ExamForm, now: dt.datetime):
        return assignment_for(user=user, form=form, now=now)

    def start_check(self, *, user, form_id: int, now: dt.datetime) -> StartCheck:
        return start_check(user=user, form_id=form_id, now=now)

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


# --- Starting an exam, in one statement ------------------------------------------------
# `forms_available_to` and `assignment_for` together, for one form and one candidate, in a
# single read: the form row; the attempt to resume; attempts used; whether a staff role
# keeps them out; whether they belong to the form's owning program; their most generous
# accommodation; and the assignment whose terms apply (the one `_preference` picks: an open
# window first, then unlimited attempts, the most attempts, the latest close, the lowest
# id) with its program's accommodation. When a cohort starts at once, each start costs this
# read and one INSERT. Only the form's columns that may change while it is published are
# read (a published form's other fields never change: exams.selectors.delivered_form keeps
# it in the worker's memory); building the whole row into a model cost more than the read.
_START_SQL = """
SELECT f.id, f.kind, f.status, f.available_to_all,
  (SELECT a.id FROM {attempt} a
    WHERE a.candidate_id = %s AND (a.form_id = f.id OR a.assigned_form_id = f.id)
      AND a.state = %s LIMIT 1) AS x_resume,
  (SELECT COUNT(*) FROM {attempt} a
    WHERE a.candidate_id = %s AND (a.form_id = f.id OR a.assigned_form_id = f.id)
      AND a.mode = %s) AS x_used,
  EXISTS (SELECT 1 FROM {user_groups} ug JOIN {group} g ON g.id = ug.group_id
    WHERE ug.user_id = %s AND g.name IN (%s, %s)) AS x_staff,
  (f.owner_program_id IS NULL OR EXISTS (
    SELECT 1 FROM {membership} m JOIN {cohort} c ON c.id = m.cohort_id
    WHERE m.user_id = %s AND c.program_id = f.owner_program_id)) AS x_member,
  (SELECT MAX(o.time_multiplier) FROM {accommodation} o WHERE o.user_id = %s) AS x_own,
  b.id AS x_a_id, b.cohort_id AS x_a_cohort, b.opens_at AS x_a_opens,
  b.closes_at AS x_a_closes, b.max_attempts AS x_a_max, b.review_policy AS x_a_policy,
  bc.program_id AS x_a_program,
  (SELECT o.time_multiplier FROM {accommodation} o
    WHERE o.user_id = %s AND o.program_id = bc.program_id) AS x_a_mult
FROM {form} f
LEFT JOIN {assignment} b ON b.id = (
  SELECT s.id FROM {assignment} s
  WHERE s.form_id = f.id
    AND s.cohort_id IN (SELECT m.cohort_id FROM {membership} m WHERE m.user_id = %s)
  ORDER BY
    CASE WHEN s.opens_at <= %s AND (s.closes_at IS NULL OR s.closes_at > %s)
      THEN 1 ELSE 0 END DESC,
    CASE WHEN s.max_attempts IS NULL THEN 1 ELSE 0 END DESC,
    COALESCE(s.max_attempts, 0) DESC,
    CASE WHEN s.closes_at IS NULL THEN 1 ELSE 0 END DESC,
    s.closes_at DESC,
    s.id
  LIMIT 1)
LEFT JOIN {cohort} bc ON bc.id = b.cohort_id
WHERE f.id = %s
"""


@functools.cache
def _start_sql() -> str:
    return _START_SQL.format(
        attempt=Attempt._meta.db_table,
        user_groups=get_user_model().groups.through._meta.db_table,
        group=Group._meta.db_table,
        membership=Membership._meta.db_table,
        cohort=Cohort._meta.db_table,
        accommodation=Accommodation._meta.db_table,
        assignment=Assignment._meta.db_table,
        form=ExamForm._meta.db_table,
    )


def _aware(value) -> dt.datetime | None:
    # PostgreSQL returns aware datetimes; SQLite naive ones or the stored text (UTC).
    if value is None:
        return None
    parsed = value if isinstance(value, dt.datetime) else parse_datetime(value)
    return parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=dt.UTC)


def _decimal(value) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(Decimal("0.01"))


def start_check(*, user, form_id: int, now: dt.datetime | None = None) -> StartCheck:
    """The form, the attempt to resume and the terms of a new one, in one query (a retake
    sat on another form counts under, and resumes from, the assigned one); the same
    answers as `forms_available_to` and `assignment_for` (tests/cohorts compare them)."""
    if not fits_bigint(form_id):
        return StartCheck(None, None, None)  # no form has such an id
    now = now or timezone.now()
    at = connection.ops.adapt_datetimefield_value(now)
    params = [
        user.pk, AttemptState.IN_PROGRESS,
        user.pk, AttemptMode.EXAM,
        user.pk, Role.INSTRUCTOR.value, Role.MANAGER.value,
        user.pk,
        user.pk,
        user.pk,
        user.pk, at, at,
        form_id,
    ]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(_start_sql(), params)
        row = cursor.fetchone()
    if row is None:
        return StartCheck(None, None, None)
    (
        pk, kind, status, available_to_all,
        resume, used, staff, member, own,
        a_id, a_cohort, a_opens, a_closes, a_max, a_policy, a_program, a_mult,
    ) = row  # fmt: skip
    if status == FormStatus.PUBLISHED:
        form = delivered_form(pk)
        form.available_to_all = bool(available_to_all)  # the one field that may change
    else:
        form = ExamForm.objects.get(pk=pk)  # a draft or retired form: read as it is now
    if (
        kind != FormKind.EXAM
        or status != FormStatus.PUBLISHED
        # Staff try forms through the admin's preview (as in forms_available_to).
        or user.is_superuser
        or staff
    ):
        return StartCheck(form, resume, None)
    if a_id is not None:
        opens, closes = _aware(a_opens), _aware(a_closes)
        if not (opens <= now and (closes is None or now < closes)):
            # Assigned, but no assignment of theirs is open: not offered, not startable.
            return StartCheck(form, resume, None)
        terms = AssignmentTerms(
            form_id=pk,
            assignment_id=a_id,
            cohort_id=a_cohort,
            opens_at=opens,
            closes_at=closes,
            max_attempts=a_max,
            attempts_used=used,
            review_policy=a_policy,
            program_id=a_program,
            time_multiplier=_decimal(a_mult) or Decimal("1.00"),
        )
        return StartCheck(form, resume, terms)
    if available_to_all and member:
        terms = open_form_terms(
            form=form,
            attempts_used=used,
            time_multiplier=_decimal(own) or Decimal("1.00"),
        )
        return StartCheck(form, resume, terms)
    return StartCheck(form, resume, None)
