"""Who may sit which exam form, and on what terms: asked by delivery, answered above it.

Delivery (this app) needs to know which published forms a candidate may open, the terms of
a sitting (window, attempts, answer review) and whether a finished attempt may be
reviewed. The answers come from the app that assigns forms to people (cohorts), which sits
above exams: it registers them here from its ready() (`register`), so exams never imports
it. Without a registration only forms open to everyone are offered.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.db.models import Q, QuerySet
from django.utils import timezone

from exams.models import Attempt, AttemptMode, AttemptState, ExamForm, ReviewPolicy


@dataclass(frozen=True)
class AssignmentTerms:
    """The limits under which a candidate sits a form, from their cohort's assignment.

    `assignment_id` is None for a form open to everyone with no assignment of theirs: no
    window, no attempt limit, and answer review as the form says.
    """

    form_id: int
    assignment_id: int | None
    cohort_id: int | None
    opens_at: dt.datetime | None
    closes_at: dt.datetime | None
    max_attempts: int | None
    attempts_used: int
    review_policy: str
    # The program whose assignment this is (None outside any assignment), and the extra
    # time that program grants the candidate: an attempt copies both when it starts.
    program_id: int | None = None
    time_multiplier: Decimal = Decimal("1.00")

    def is_open(self, now: dt.datetime) -> bool:
        if self.opens_at is not None and now < self.opens_at:
            return False
        return self.closes_at is None or now < self.closes_at

    @property
    def attempts_left(self) -> int | None:
        if self.max_attempts is None:
            return None
        return max(0, self.max_attempts - self.attempts_used)

    def refusal(self, now: dt.datetime) -> str | None:
        """Why a new attempt may not start now, or None if it may."""
        local = timezone.localtime
        if self.opens_at is not None and now < self.opens_at:
            return f"This exam opens on {local(self.opens_at):%d %b %Y at %H:%M %Z}."
        if self.closes_at is not None and now >= self.closes_at:
            return f"This exam closed on {local(self.closes_at):%d %b %Y at %H:%M %Z}."
        if self.attempts_left == 0:
            plural = "attempt" if self.max_attempts == 1 else "attempts"
            return f"You have used your {self.max_attempts} {plural} at this exam."
        return None

    def review_allowed(self, *, attempt: Attempt, now: dt.datetime) -> bool:
        """May the candidate see keys and rationales of this finished attempt?"""
        if attempt.state == AttemptState.IN_PROGRESS:
            return False
        if self.review_policy == ReviewPolicy.AFTER_SUBMISSION:
            return True
        if self.review_policy == ReviewPolicy.AFTER_CLOSE:
            return self.closes_at is not None and now >= self.closes_at
        return False


@dataclass(frozen=True)
class StartCheck:
    """What starting `form_id` needs to know, asked once (exams.services.attempt_start).

    `form` is None when there is no such form; `resume_id` is the attempt the candidate
    already has in progress on it; `terms` is None when the form is not theirs to start
    now (not published, not assigned to them with an open window, not open to them).
    """

    form: ExamForm | None
    resume_id: int | None
    terms: AssignmentTerms | None


class Eligibility(Protocol):
    def forms_available_to(self, *, user, now: dt.datetime) -> QuerySet[ExamForm]: ...

    def start_check(self, *, user, form_id: int, now: dt.datetime) -> StartCheck: ...

    def assignment_for(
        self, *, user, form: ExamForm, now: dt.datetime
    ) -> AssignmentTerms | None: ...

    def own_time_multiplier(self, *, user) -> Decimal: ...

    def candidate_program_ids(self, *, user) -> set[int]: ...


class OpenFormsOnly:
    """Before anything registers: published forms open to everyone, with no limits."""

    def forms_available_to(self, *, user, now: dt.datetime) -> QuerySet[ExamForm]:
        if not user.is_authenticated:
            return ExamForm.objects.none()
        return ExamForm.objects.exams().published().filter(available_to_all=True)

    def start_check(self, *, user, form_id: int, now: dt.datetime) -> StartCheck:
        form = ExamForm.objects.filter(pk=form_id).first()
        if form is None:
            return StartCheck(None, None, None)
        resume = (
            Attempt.objects.filter(
                Q(form_id=form.pk) | Q(assigned_form_id=form.pk),
                candidate_id=user.pk,
                state=AttemptState.IN_PROGRESS,
            )
            .values_list("pk", flat=True)
            .first()
        )
        available = self.forms_available_to(user=user, now=now).filter(pk=form.pk).exists()
        terms = self.assignment_for(user=user, form=form, now=now) if available else None
        return StartCheck(form, resume, terms)

    def assignment_for(self, *, user, form: ExamForm, now: dt.datetime) -> AssignmentTerms | None:
        if not (user.is_authenticated and form.available_to_all and form.is_published):
            return None
        used = (
            Attempt.objects.exams()
            .filter(Q(form_id=form.pk) | Q(assigned_form_id=form.pk), candidate_id=user.pk)
            .count()
        )
        return open_form_terms(form=form, attempts_used=used)

    def own_time_multiplier(self, *, user) -> Decimal:
        return Decimal("1.00")

    def candidate_program_ids(self, *, user) -> set[int]:
        return set()


_eligibility: Eligibility = OpenFormsOnly()


def register(eligibility: Eligibility) -> None:
    global _eligibility
    _eligibility = eligibility


def open_form_terms(
    *, form: ExamForm, attempts_used: int, time_multiplier: Decimal = Decimal("1.00")
) -> AssignmentTerms:
    """A form open to everyone, sat without an assignment: no window, no attempt limit, and
    answer review as the form says."""
    used = attempts_used
    return AssignmentTerms(
        form_id=form.pk,
        assignment_id=None,
        cohort_id=None,
        opens_at=None,
        closes_at=None,
        max_attempts=None,
        attempts_used=used,
        review_policy=ReviewPolicy.AFTER_SUBMISSION if form.allow_review else ReviewPolicy.NONE,
        time_multiplier=time_multiplier,
    )


def forms_available_to(*, user, now: dt.datetime | None = None) -> QuerySet[ExamForm]:
    """Published exam forms the user may open now."""
    return _eligibility.forms_available_to(user=user, now=now or timezone.now())


def start_check(*, user, form_id: int, now: dt.datetime | None = None) -> StartCheck:
    """Starting an exam, asked in one go: the form, the attempt to resume on it, and the
    terms if it is the user's to start now (None otherwise). The registered eligibility
    answers it in one query: a cohort that starts at once pays one read per start."""
    if not user.is_authenticated:
        return StartCheck(None, None, None)
    return _eligibility.start_check(user=user, form_id=form_id, now=now or timezone.now())


def assignment_for(*, user, form: ExamForm, now: dt.datetime | None = None):
    """The terms under which `user` sits `form`, or None if it is not theirs to sit."""
    if not user.is_authenticated:
        return None
    return _eligibility.assignment_for(user=user, form=form, now=now or timezone.now())


def own_time_multiplier(*, user) -> Decimal:
    """The extra time a candidate has outside any assignment (practice, forms open to all):
    the most generous accommodation any of their programs grants them."""
    if not user.is_authenticated:
        return Decimal("1.00")
    return _eligibility.own_time_multiplier(user=user)


def candidate_program_ids(*, user) -> set[int]:
    """The programs a candidate belongs to (their items may appear in their practice)."""
    if not user.is_authenticated:
        return set()
    return _eligibility.candidate_program_ids(user=user)


def attempt_review_allowed(*, attempt: Attempt, now: dt.datetime | None = None) -> bool:
    """Answer review for a finished attempt: always for practice, for an exam by its
    assignment's policy.

    Falls back to the form's own allow_review when no assignment applies any more.
    """
    now = now or timezone.now()
    if attempt.state == AttemptState.IN_PROGRESS:
        return False
    if attempt.mode == AttemptMode.PRACTICE:
        return True
    # A retake on another form is reviewed under the assigned form's terms.
    form = attempt.assigned_form if attempt.assigned_form_id else attempt.form
    terms = assignment_for(user=attempt.candidate, form=form, now=now)
    if terms is None:
        return bool(form.allow_review)
    return terms.review_allowed(attempt=attempt, now=now)
