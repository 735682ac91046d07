"""Cohorts of candidates, who manages and teaches them, and which forms they may sit.

A cohort's managers and instructors are the only people who see its figures; a form is
open to a candidate through an assignment to one of their cohorts (or, for self-study,
through ExamForm.available_to_all, which instructors set).
"""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from exams.models import ReviewPolicy
from tenancy.audit_base import AuditRecord
from tenancy.models import StaffRole
from tenancy.scoping import program_ids

# No 0/O, 1/I/L: codes are read aloud in class and copied from slides.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


def new_enrolment_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(value: str) -> str:
    """What a candidate typed, as stored: spaces and hyphens dropped, upper case."""
    return "".join(ch for ch in (value or "").upper() if ch.isalnum())


class CohortQuerySet(models.QuerySet):
    def taught_by(self, user):
        if not user.is_authenticated:
            return self.none()
        return self.filter(
            pk__in=Cohort.instructors.through.objects.filter(user_id=user.pk).values("cohort_id")
        )

    def visible_to(self, user):
        """Cohorts whose dashboards the user may read (the operator: all): every cohort of
        a program they manage, and the cohorts they manage or teach in a program where
        they still hold a role. Taking someone's program role away takes their cohorts
        with it."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        managed = Cohort.managers.through.objects.filter(user_id=user.pk).values("cohort_id")
        taught = Cohort.instructors.through.objects.filter(user_id=user.pk).values("cohort_id")
        staff_of = sorted(program_ids(user))
        manager_of = sorted(program_ids(user, roles=[StaffRole.MANAGER]))
        return self.filter(
            Q(program_id__in=manager_of)
            | (Q(program_id__in=staff_of) & (Q(pk__in=managed) | Q(pk__in=taught)))
        )

    def managed_by(self, user):
        """Cohorts the user may change: every cohort of a program they manage (the
        operator: all)."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        return self.filter(program_id__in=sorted(program_ids(user, roles=[StaffRole.MANAGER])))

    def with_code(self, code: str):
        return self.filter(enrolment_code=normalise_code(code), enrolment_open=True)


class Cohort(models.Model):
    name = models.CharField(max_length=120)
    program = models.ForeignKey(
        "tenancy.Program",
        on_delete=models.PROTECT,
        related_name="cohorts",
        help_text="The college's course or the hospital's coding department it belongs to.",
    )
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    managers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="managed_cohorts", blank=True
    )
    instructors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="taught_cohorts", blank=True
    )
    candidates = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="Membership",
        related_name="cohorts",
        blank=True,
    )
    enrolment_code = models.CharField(
        max_length=CODE_LENGTH, unique=True, default=new_enrolment_code, editable=False
    )
    enrolment_open = models.BooleanField(
        default=True, help_text="Candidates may join with the enrolment code."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CohortQuerySet.as_manager()
    history = HistoricalRecords(bases=[AuditRecord], m2m_fields=[managers, instructors])

    class Meta:
        ordering = ["-start_date", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True)
                | Q(start_date__isnull=True)
                | Q(end_date__gte=models.F("start_date")),
                name="cohort_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def audit_program(self) -> int | None:
        return self.program_id

    def clean(self) -> None:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": "The cohort cannot end before it starts."})

    @property
    def display_code(self) -> str:
        code = self.enrolment_code
        return f"{code[:4]}-{code[4:]}"


class MembershipSource(models.TextChoices):
    CODE = "code", "Enrolment code"
    ADDED = "added", "Added by a manager"
    ROSTER = "roster", "Roster upload"
    GENERATED = "generated", "Generated demo data"


class Membership(models.Model):
    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cohort_memberships"
    )
    joined_at = models.DateTimeField(default=timezone.now)
    source = models.CharField(
        max_length=10, choices=MembershipSource.choices, default=MembershipSource.ADDED
    )

    history = HistoricalRecords(bases=[AuditRecord])

    class Meta:
        ordering = ["cohort", "joined_at"]
        constraints = [
            models.UniqueConstraint(fields=["cohort", "user"], name="membership_once_per_cohort")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.cohort}"

    def audit_program(self) -> int | None:
        return Cohort.objects.filter(pk=self.cohort_id).values_list("program", flat=True).first()


class AssignmentQuerySet(models.QuerySet):
    def open_at(self, now: dt.datetime):
        return self.filter(Q(opens_at__lte=now), Q(closes_at__isnull=True) | Q(closes_at__gt=now))

    def visible_to(self, user):
        return self.filter(cohort__in=Cohort.objects.visible_to(user))

    def for_candidate(self, user):
        return self.filter(
            cohort_id__in=Membership.objects.filter(user_id=user.pk).values("cohort_id")
        )


class Assignment(models.Model):
    """A form a cohort may sit, when, how often, and when answers may be reviewed."""

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="assignments")
    form = models.ForeignKey("exams.ExamForm", on_delete=models.PROTECT, related_name="assignments")
    opens_at = models.DateTimeField(default=timezone.now)
    closes_at = models.DateTimeField(
        null=True, blank=True, help_text="Leave empty to keep the form open."
    )
    max_attempts = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
        help_text="Exam attempts each candidate may start; empty for no limit.",
    )
    review_policy = models.CharField(
        max_length=20, choices=ReviewPolicy.choices, default=ReviewPolicy.AFTER_SUBMISSION
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AssignmentQuerySet.as_manager()
    history = HistoricalRecords(bases=[AuditRecord])

    class Meta:
        ordering = ["cohort", "opens_at"]
        constraints = [
            models.UniqueConstraint(fields=["cohort", "form"], name="assignment_once_per_form"),
            models.CheckConstraint(
                condition=Q(closes_at__isnull=True) | Q(closes_at__gt=models.F("opens_at")),
                name="assignment_closes_after_opening",
            ),
            models.CheckConstraint(
                condition=~Q(review_policy="after_close") | Q(closes_at__isnull=False),
                name="assignment_review_after_close_needs_close",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.form} for {self.cohort}"

    def audit_program(self) -> int | None:
        return Cohort.objects.filter(pk=self.cohort_id).values_list("program", flat=True).first()

    def clean(self) -> None:
        errors = {}
        if self.closes_at and self.opens_at and self.closes_at <= self.opens_at:
            errors["closes_at"] = "The window must close after it opens."
        if self.review_policy == ReviewPolicy.AFTER_CLOSE and not self.closes_at:
            errors["review_policy"] = (
                "Answers can be shown after the window closes only if it closes: "
                "set a closing time."
            )
        if errors:
            raise ValidationError(errors)

    def is_open(self, now: dt.datetime) -> bool:
        return self.opens_at <= now and (self.closes_at is None or now < self.closes_at)


# --- Accommodations ---------------------------------------------------------------------
MULTIPLIER_VALIDATORS = [
    MinValueValidator(Decimal("1.00")),
    MaxValueValidator(Decimal("4.00")),
]


class AccommodationQuerySet(models.QuerySet):
    def visible_to(self, user):
        """A program's accommodations are read and changed by its staff alone."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        return self.filter(program_id__in=sorted(program_ids(user)))


class Accommodation(models.Model):
    """Extra time a program grants one of its candidates for the exams it assigns.

    Per program: a candidate in two programs may have two, and neither program sees or
    changes the other's. An attempt copies the multiplier it starts with.
    """

    program = models.ForeignKey(
        "tenancy.Program", on_delete=models.CASCADE, related_name="accommodations"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="accommodations"
    )
    time_multiplier = models.DecimalField(
        max_digits=3,
        decimal_places=2,
        default=Decimal("1.00"),
        validators=MULTIPLIER_VALIDATORS,
        help_text="Extra-time accommodation: 1.50 gives time and a half.",
    )
    note = models.CharField(max_length=200, blank=True, help_text="Reason or reference.")
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    set_at = models.DateTimeField(auto_now=True)

    objects = AccommodationQuerySet.as_manager()
    history = HistoricalRecords(bases=[AuditRecord])

    class Meta:
        ordering = ["program", "user"]
        verbose_name = "candidate accommodation"
        constraints = [
            models.UniqueConstraint(fields=["program", "user"], name="accommodation_once"),
            models.CheckConstraint(
                condition=Q(time_multiplier__gte=Decimal("1.00"))
                & Q(time_multiplier__lte=Decimal("4.00")),
                name="accommodation_multiplier_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} × {self.time_multiplier} ({self.program})"

    def audit_program(self) -> int | None:
        return self.program_id
