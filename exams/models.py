"""Blueprints, frozen exam forms, attempts and responses.

A published form never changes: the models refuse edits below the admin, so that every
response and every statistic points at exactly what candidates saw.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from common.errors import ApplicationError
from questionbank.models import OwnedQuerySet, owner_program_field
from tenancy.audit_base import AuditRecord
from tenancy.scoping import program_q


class FrozenFormError(ApplicationError):
    """Raised when code tries to change a published form or its items."""

    status_code = 409


class ReviewPolicy(models.TextChoices):
    """When a candidate may see the keys and rationales of a finished exam attempt (set by
    whoever assigns the form; delivery applies it)."""

    NONE = "none", "Never"
    AFTER_SUBMISSION = "after_submission", "After submitting"
    AFTER_CLOSE = "after_close", "After the window closes"


# --- Blueprints ------------------------------------------------------------------------
def _default_warnings() -> list[int]:
    return [30, 5]


def _is_minutes(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _valid_warnings(warnings, time_limit: int | None) -> bool:
    return isinstance(warnings, list) and all(
        _is_minutes(w) and w < (time_limit or 0) for w in warnings
    )


def warning_minutes_error(warnings, time_limit: int | None) -> str | None:
    """Why a list of warning times does not fit the time limit, or None if it does."""
    if time_limit is None or _valid_warnings(warnings, time_limit):
        return None
    example = [w for w in (30, 5, 1) if w < time_limit][:2]
    return (
        "List the whole minutes left at which candidates are warned, in brackets and each "
        f"less than the time limit ({time_limit}), e.g. {example}; [] for no warnings."
    )


class Blueprint(models.Model):
    """How a form is built: items per domain, pretest items, time and warnings.

    Data edited in the admin (by the platform operator: blueprints are shared by every
    program), never constants in code (docs/architecture.md).
    """

    name = models.CharField(max_length=60, unique=True)
    description = models.TextField(blank=True)
    total_items = models.PositiveSmallIntegerField(
        help_text="Scored items of all domains plus pretest items; checked when saved."
    )
    pretest_count = models.PositiveSmallIntegerField(
        default=10, help_text="Unscored items mixed in at random positions."
    )
    time_limit_minutes = models.PositiveIntegerField(
        default=240, validators=[MinValueValidator(1), MaxValueValidator(24 * 60)]
    )
    # Minutes left at which the candidate is warned, e.g. [30, 5].
    warning_minutes = models.JSONField(default=_default_warnings, blank=True)
    shuffle_items = models.BooleanField(
        default=True, help_text="Default for new forms: item order differs per attempt."
    )
    shuffle_options = models.BooleanField(
        default=False, help_text="Default for new forms: option order differs per attempt."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        error = warning_minutes_error(self.warning_minutes, self.time_limit_minutes)
        if error:
            raise ValidationError({"warning_minutes": error})

    def domain_counts(self) -> dict[int, int]:
        """Scored items wanted per domain number."""
        return {
            row.domain.number: row.scored_items
            for row in self.domains.select_related("domain").order_by("domain__number")
        }


def blueprint_totals_error(*, total_items: int, pretest_count: int, domain_counts) -> str | None:
    scored = sum(domain_counts)
    if scored + pretest_count != total_items:
        return (
            f"Total items is {total_items}, but the domains ask for {scored} scored items "
            f"and {pretest_count} pretest items ({scored + pretest_count} in all)."
        )
    if scored == 0:
        return "A blueprint needs at least one scored item."
    return None


class BlueprintDomain(models.Model):
    blueprint = models.ForeignKey(Blueprint, on_delete=models.CASCADE, related_name="domains")
    domain = models.ForeignKey("questionbank.Domain", on_delete=models.PROTECT, related_name="+")
    scored_items = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["blueprint", "domain__number"]
        constraints = [
            models.UniqueConstraint(fields=["blueprint", "domain"], name="blueprint_domain_once")
        ]

    def __str__(self) -> str:
        return f"{self.blueprint}: domain {self.domain_id} × {self.scored_items}"


# --- Forms -----------------------------------------------------------------------------
class FormStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"


class FormKind(models.TextChoices):
    EXAM = "exam", "Exam form"
    # One ad-hoc form per practice session, so that delivery has a single code path.
    PRACTICE = "practice", "Practice set"


class ExamFormQuerySet(OwnedQuerySet):
    def exams(self):
        return self.filter(kind=FormKind.EXAM)

    def published(self):
        return self.filter(status=FormStatus.PUBLISHED)

    def offerable(self):
        """Forms staff may assign or link: not the personal forms of retakes."""
        return self.filter(retake_of__isnull=True)

    def delete(self):
        if self.filter(status=FormStatus.PUBLISHED).exists():
            raise FrozenFormError("A published form cannot be deleted.")
        return super().delete()

    def update(self, **kwargs):
        if set(kwargs) - ExamForm.MUTABLE_AFTER_PUBLISH and self.published().exists():
            raise FrozenFormError("A published form cannot be changed.")
        return super().update(**kwargs)


class ExamForm(models.Model):
    # Who may sit a form is not part of what the form is; the cohorts work assigns forms.
    MUTABLE_AFTER_PUBLISH = {"available_to_all"}

    name = models.CharField(max_length=80, unique=True)
    kind = models.CharField(max_length=10, choices=FormKind.choices, default=FormKind.EXAM)
    blueprint = models.ForeignKey(
        Blueprint, null=True, blank=True, on_delete=models.PROTECT, related_name="forms"
    )
    seed = models.BigIntegerField(default=0)
    status = models.CharField(max_length=10, choices=FormStatus.choices, default=FormStatus.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True)
    time_limit_minutes = models.PositiveIntegerField(
        default=240, validators=[MinValueValidator(1), MaxValueValidator(24 * 60)]
    )
    warning_minutes = models.JSONField(default=_default_warnings, blank=True)
    shuffle_items = models.BooleanField(default=True)
    shuffle_options = models.BooleanField(default=False)
    allow_review = models.BooleanField(
        default=False, help_text="After submitting, candidates may review answers and rationales."
    )
    codebook_panel = models.BooleanField(
        default=True, help_text="Show the code-book lookup beside the items during the exam."
    )
    available_to_all = models.BooleanField(
        default=False, help_text="Every signed-in candidate may sit this form."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Null: a shared form (the demo forms of the sample bank) every program may assign.
    owner_program = owner_program_field()
    # Set on a form built for one candidate's retake of this form (exams.retakes): it is
    # never offered, assigned or linked to anyone else.
    retake_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="retake_forms",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ExamFormQuerySet.as_manager()
    history = HistoricalRecords(bases=[AuditRecord])

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "exam form"
        permissions = [("publish_examform", "Can publish exam forms")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        allow = kwargs.pop("allow_publish", False)
        stored = self._stored()
        if stored and stored["status"] == FormStatus.PUBLISHED and not allow:
            changed = {
                f.attname
                for f in self._meta.concrete_fields
                if f.attname in stored and stored[f.attname] != getattr(self, f.attname)
            }
            if changed - self.MUTABLE_AFTER_PUBLISH:
                raise FrozenFormError(
                    f"{self} is published and cannot be changed ({', '.join(sorted(changed))})."
                )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        stored = self._stored()
        if stored and stored["status"] == FormStatus.PUBLISHED:
            raise FrozenFormError(f"{self} is published and cannot be deleted.")
        return super().delete(*args, **kwargs)

    def clean(self) -> None:
        error = warning_minutes_error(self.warning_minutes, self.time_limit_minutes)
        if error:
            raise ValidationError({"warning_minutes": error})

    @property
    def warnings(self) -> list[int]:
        """The warning times the exam screen announces: the whole minutes of the setting,
        ignoring anything else in it (set outside the admin's check), so that a bad setting
        never stops an exam. Times beyond the limit are kept: the screen announces the
        latest one crossed."""
        values = self.warning_minutes if isinstance(self.warning_minutes, list) else []
        return [w for w in values if _is_minutes(w)]

    @property
    def is_published(self) -> bool:
        return self.status == FormStatus.PUBLISHED

    def _stored(self):
        if not self.pk:
            return None
        return type(self).objects.filter(pk=self.pk).values().first()

    def audit_program(self) -> int | None:
        return self.owner_program_id


class FormItemQuerySet(models.QuerySet):
    def _touches_published(self) -> bool:
        return self.filter(form__status=FormStatus.PUBLISHED).exists()

    def delete(self):
        if self._touches_published():
            raise FrozenFormError("Items of a published form cannot be removed.")
        return super().delete()

    def update(self, **kwargs):
        if self._touches_published():
            raise FrozenFormError("Items of a published form cannot be changed.")
        return super().update(**kwargs)


class FormItem(models.Model):
    form = models.ForeignKey(ExamForm, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField()
    item_version = models.ForeignKey(
        "questionbank.ItemVersion", on_delete=models.PROTECT, related_name="form_items"
    )
    is_pretest = models.BooleanField(default=False)

    objects = FormItemQuerySet.as_manager()

    class Meta:
        ordering = ["form", "position"]
        constraints = [
            models.UniqueConstraint(fields=["form", "position"], name="formitem_unique_position"),
            models.UniqueConstraint(
                fields=["form", "item_version"], name="formitem_unique_version"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.form} #{self.position}"

    def save(self, *args, **kwargs):
        if self._form_published():
            raise FrozenFormError(f"{self.form} is published; its items cannot change.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self._form_published():
            raise FrozenFormError(f"{self.form} is published; its items cannot change.")
        return super().delete(*args, **kwargs)

    def _form_published(self) -> bool:
        return ExamForm.objects.filter(pk=self.form_id, status=FormStatus.PUBLISHED).exists()


# --- Attempts --------------------------------------------------------------------------
class AttemptMode(models.TextChoices):
    EXAM = "exam", "Exam"
    PRACTICE = "practice", "Practice"


class AttemptState(models.TextChoices):
    IN_PROGRESS = "in_progress", "In progress"
    SUBMITTED = "submitted", "Submitted"
    EXPIRED = "expired", "Expired"


class AttemptQuerySet(models.QuerySet):
    def exams(self):
        """Real exam attempts: practice never counts towards results."""
        return self.filter(mode=AttemptMode.EXAM)

    def practice(self):
        return self.filter(mode=AttemptMode.PRACTICE)

    def in_progress(self):
        return self.filter(state=AttemptState.IN_PROGRESS)

    def finished(self):
        return self.exclude(state=AttemptState.IN_PROGRESS)

    def past_deadline(self, now: dt.datetime, *, grace_seconds: float = 0):
        return self.filter(deadline__lt=now - dt.timedelta(seconds=grace_seconds))

    def of(self, user):
        return self.filter(candidate=user)

    def awaiting_score(self):
        """Finalised and not yet scored: what the scoring sweep picks up. The state change
        that closes an attempt is itself the record that it needs scoring, written in the
        same transaction, so no broker message has to survive for a score to appear."""
        return self.exclude(state=AttemptState.IN_PROGRESS).filter(scored_at__isnull=True)

    def visible_to(self, user):
        """Attempts staff may read: those sat under an assignment of their programs (the
        operator: all). Practice and open forms sat outside any program are nobody's."""
        return self.filter(program_q(user, "program"))


class Attempt(models.Model):
    candidate = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="attempts"
    )
    form = models.ForeignKey(ExamForm, on_delete=models.PROTECT, related_name="attempts")
    # A retake sat on another form than the one assigned (exams/retakes.py): the assigned
    # form, whose terms (window, attempts, review) the attempt counts under. Null when the
    # attempt is on the assigned form itself.
    assigned_form = models.ForeignKey(
        ExamForm, null=True, blank=True, on_delete=models.PROTECT, related_name="retake_attempts"
    )
    mode = models.CharField(max_length=10, choices=AttemptMode.choices, default=AttemptMode.EXAM)
    state = models.CharField(
        max_length=12, choices=AttemptState.choices, default=AttemptState.IN_PROGRESS
    )
    started_at = models.DateTimeField()
    # Null for untimed practice.
    deadline = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    # The accommodation the attempt started with, from the program it is sat under; a
    # later change of the accommodation never touches a started attempt.
    time_multiplier = models.DecimalField(max_digits=3, decimal_places=2, default=Decimal("1.00"))
    # The program whose assignment the attempt is sat under (from the eligibility terms at
    # start); null for practice and forms open to everyone sat without an assignment.
    program = models.ForeignKey(
        "tenancy.Program", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    seed = models.BigIntegerField()
    # What the candidate sees, in order: [[form_item_id, choose, [option ids in display
    # order]], ...]. Computed once at start so that a save validates against this row
    # alone (one indexed read) and shuffling is stable for the whole attempt.
    layout = models.JSONField(default=list)
    current_position = models.PositiveSmallIntegerField(default=1)
    practice_settings = models.JSONField(default=dict, blank=True)
    raw_score = models.DecimalField(max_digits=7, decimal_places=3, null=True, blank=True)
    scored_at = models.DateTimeField(null=True, blank=True)
    # Written once by scoring: raw, scaled, passed, domain results.
    result = models.JSONField(default=dict, blank=True)

    objects = AttemptQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            # Starting twice (double click, two tabs, a cohort's synchronized start) resumes
            # the attempt already in progress instead of opening a second one.
            models.UniqueConstraint(
                fields=["candidate", "form"],
                condition=Q(state="in_progress"),
                name="attempt_one_in_progress_per_form",
            ),
            # Nor two retakes of one assignment at once (each would build its own form).
            models.UniqueConstraint(
                fields=["candidate", "assigned_form"],
                condition=Q(state="in_progress"),
                name="attempt_one_retake_in_progress",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "deadline"], name="attempt_state_deadline"),
            # The scoring sweep's question, answered from a small index: finalised attempts
            # still without a score.
            models.Index(
                fields=["submitted_at"],
                condition=Q(scored_at__isnull=True) & ~Q(state="in_progress"),
                name="attempt_awaiting_score",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.candidate} · {self.form} · {self.get_state_display()}"

    @property
    def item_count(self) -> int:
        return len(self.layout)

    @property
    def is_in_progress(self) -> bool:
        return self.state == AttemptState.IN_PROGRESS

    def seconds_left(self, now: dt.datetime) -> float | None:
        if self.deadline is None:
            return None
        return max(0.0, (self.deadline - now).total_seconds())

    def within_deadline(self, now: dt.datetime, *, grace_seconds: float) -> bool:
        """Untimed, or `now` is no later than the deadline plus the grace."""
        return self.deadline is None or now <= self.deadline + dt.timedelta(seconds=grace_seconds)

    def accepts_writes(self, now: dt.datetime, *, grace_seconds: float) -> bool:
        return self.state == AttemptState.IN_PROGRESS and self.within_deadline(
            now, grace_seconds=grace_seconds
        )


class Response(models.Model):
    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="responses")
    form_item = models.ForeignKey(FormItem, on_delete=models.PROTECT, related_name="responses")
    # Option ids (questionbank.Option pk) the candidate selected.
    selection = models.JSONField(default=list, blank=True)
    flagged = models.BooleanField(default=False)
    saved_at = models.DateTimeField()
    # Practice only: when the candidate asked to see the key and rationale.
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["attempt", "form_item"], name="response_one_per_item")
        ]

    def __str__(self) -> str:
        return f"{self.attempt_id}/{self.form_item_id}: {self.selection}"

    @property
    def answered(self) -> bool:
        return bool(self.selection)
