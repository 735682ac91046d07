"""Stored results of the scoring core: per-form conversion tables and per-attempt scores.

The pure computations live in psychometrics (items, scale, rasch; no Django);
these models only keep what they produced, with how and when.
"""

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from exams.models import Attempt, ExamForm
from tenancy.audit_base import AuditRecord
from tenancy.scoping import program_q


class ConversionMethod(models.TextChoices):
    ANGOFF = "angoff", "Modified Angoff cut"
    EQUATED = "equated", "IRT true-score equating to the base form"
    OVERRIDE = "override", "Cut set by an instructor"


class ScaleConversionQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(program_q(user, "form__owner_program", shared=True))


class ScaleConversion(models.Model):
    """A published form's raw-to-scaled table: one scaled score per raw score 0..max_raw."""

    form = models.OneToOneField(
        "exams.ExamForm", on_delete=models.CASCADE, related_name="conversion"
    )
    method = models.CharField(max_length=10, choices=ConversionMethod.choices)
    max_raw = models.PositiveSmallIntegerField()
    cut = models.FloatField(help_text="Raw cut score (may be fractional).")
    raw_passing_score = models.PositiveSmallIntegerField()
    table = models.JSONField(help_text="Scaled score for raw 0, 1, ..., max_raw.")
    base_form = models.ForeignKey(
        "exams.ExamForm", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # How the cut was derived: judges, ratings, calibration used; free-form for display.
    derivation = models.JSONField(default=dict, blank=True)
    override_reason = models.TextField(blank=True)
    overridden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    overridden_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Raised by every change of a published form's table (a cut override, a re-equating
    # after a new calibration); ConversionVersion keeps each version, results name theirs.
    version = models.PositiveIntegerField(default=1)
    # Results scored with a version below this one are rescored (scoring.services
    # stale_results): each version that rescores raises it to itself; a new calibration's
    # version leaves it when CCS_RESCORE_AFTER_CALIBRATION is off.
    rescore_from = models.PositiveIntegerField(default=1)

    objects = ScaleConversionQuerySet.as_manager()
    history = HistoricalRecords(bases=[AuditRecord])

    def __str__(self) -> str:
        return f"{self.form}: cut {self.cut:.2f} ({self.get_method_display()})"

    def audit_program(self) -> int | None:
        return ExamForm.objects.filter(pk=self.form_id).values_list("owner_program", flat=True)[0]


class AttemptResultQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Results staff may read: attempts sat under their programs' assignments."""
        return self.filter(program_q(user, "attempt__program"))


class ConversionVersion(models.Model):
    """Every table a form has had, the current one included: what results were scored with.

    Written with the ScaleConversion by each writer of it (scoring.services); never edited.
    """

    form = models.ForeignKey(
        "exams.ExamForm", on_delete=models.CASCADE, related_name="conversion_versions"
    )
    version = models.PositiveIntegerField()
    method = models.CharField(max_length=10, choices=ConversionMethod.choices)
    max_raw = models.PositiveSmallIntegerField()
    cut = models.FloatField()
    raw_passing_score = models.PositiveSmallIntegerField()
    table = models.JSONField()
    base_form = models.ForeignKey(
        "exams.ExamForm", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    derivation = models.JSONField(default=dict, blank=True)
    # Why this version exists (publication, a cut override's reason, a new calibration),
    # who made it and when: what a candidate's changed result is explained with.
    reason = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    # False: this version scored only attempts scored after it; the results issued before
    # stand (a new calibration with CCS_RESCORE_AFTER_CALIBRATION off).
    rescored = models.BooleanField(default=True)

    class Meta:
        ordering = ["form", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["form", "version"], name="conversion_version_once")
        ]

    def __str__(self) -> str:
        return f"{self.form_id} v{self.version}: cut {self.cut:.2f} ({self.method})"


class AttemptResult(models.Model):
    """The current score of one finished attempt (``attempt.score``).

    Written by scoring.services.attempt_score, and replaced in place by a rescoring when
    the form's conversion table gets a new version; the result it replaces is kept as a
    ResultHistory row, so every result a candidate was ever shown stays on record.
    """

    attempt = models.OneToOneField("exams.Attempt", on_delete=models.CASCADE, related_name="score")
    raw_score = models.FloatField()
    max_raw = models.PositiveSmallIntegerField()
    scaled_score = models.PositiveSmallIntegerField(null=True, blank=True)
    passed = models.BooleanField(null=True)
    # Rasch ability on the bank scale and its standard error, for calibrated forms.
    theta = models.FloatField(null=True, blank=True)
    theta_se = models.FloatField(null=True, blank=True)
    # The standard error carried to the 100-400 scale, and the probability of passing.
    scaled_low = models.PositiveSmallIntegerField(null=True, blank=True)
    scaled_high = models.PositiveSmallIntegerField(null=True, blank=True)
    pass_probability = models.FloatField(null=True, blank=True)
    # {"1": {"correct": 40, "total": 55, "percent": 72.7, "expected": 65.0, "band": "above"}}
    domain_results = models.JSONField(default=dict)
    # {"<form_item_id>": 1.0, ...} for every item, pretest included (for statistics).
    item_scores = models.JSONField(default=dict)
    scored_at = models.DateTimeField(auto_now_add=True)
    # 1 for the first scoring, +1 for each rescoring that replaced it.
    version = models.PositiveSmallIntegerField(default=1)
    # The form's table version this result was computed with (None: no table, practice).
    conversion_version = models.PositiveIntegerField(null=True, blank=True)
    # Why the current result differs from the first one (empty until a rescoring).
    change_reason = models.TextField(blank=True)

    objects = AttemptResultQuerySet.as_manager()
    # The per-item scores are the bulk of the row and are kept on the row itself.
    history = HistoricalRecords(bases=[AuditRecord], excluded_fields=["item_scores"])

    class Meta:
        indexes = [models.Index(fields=["passed", "scaled_score"])]

    def __str__(self) -> str:
        return (
            f"attempt {self.attempt_id}: {self.scaled_score} ({'pass' if self.passed else 'fail'})"
        )

    def audit_program(self) -> int | None:
        return Attempt.objects.filter(pk=self.attempt_id).values_list("program", flat=True)[0]


class ResultHistory(models.Model):
    """A result as it stood before a rescoring replaced it: what, scored when, replaced
    when, by whom and why (the table version that caused it). Never edited."""

    attempt = models.ForeignKey(
        "exams.Attempt", on_delete=models.CASCADE, related_name="result_history"
    )
    version = models.PositiveSmallIntegerField()
    conversion_version = models.PositiveIntegerField(null=True, blank=True)
    raw_score = models.FloatField()
    max_raw = models.PositiveSmallIntegerField()
    scaled_score = models.PositiveSmallIntegerField(null=True, blank=True)
    passed = models.BooleanField(null=True)
    theta = models.FloatField(null=True, blank=True)
    theta_se = models.FloatField(null=True, blank=True)
    scaled_low = models.PositiveSmallIntegerField(null=True, blank=True)
    scaled_high = models.PositiveSmallIntegerField(null=True, blank=True)
    pass_probability = models.FloatField(null=True, blank=True)
    domain_results = models.JSONField(default=dict)
    scored_at = models.DateTimeField()
    superseded_at = models.DateTimeField()
    superseded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["attempt", "-version"]
        verbose_name_plural = "result history"
        constraints = [
            models.UniqueConstraint(fields=["attempt", "version"], name="result_history_once")
        ]

    def __str__(self) -> str:
        return f"attempt {self.attempt_id} v{self.version}: {self.scaled_score}"


class DomainScore(models.Model):
    """Points earned on one domain's operational items in one scored attempt.

    A copy of AttemptResult.domain_results in rows, written with it: the dashboards sum
    these over a cohort's attempts with one indexed aggregate, where summing numbers out
    of the JSON column costs a parse per attempt.
    """

    result = models.ForeignKey(AttemptResult, on_delete=models.CASCADE, related_name="domains")
    domain = models.PositiveSmallIntegerField(help_text="The domain's number (1-5 for CCS).")
    score = models.FloatField(help_text="Points earned (partial credit may make it fractional).")
    items = models.PositiveSmallIntegerField(help_text="Operational items of the domain.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["result", "domain"], name="domain_score_once")
        ]

    def __str__(self) -> str:
        return f"attempt result {self.result_id}, domain {self.domain}: {self.score}/{self.items}"


class ItemCalibration(models.Model):
    """An item version's Rasch difficulty on the bank scale.

    Filled by item analysis (operational items calibrated together, pretest items with the
    operational ones fixed as anchors). When every operational item of a form has one, the
    form's conversion table is equated to its blueprint's base form instead of relying on
    its own Angoff panel, and attempts on it get an ability estimate and its precision.
    """

    item_version = models.OneToOneField(
        "questionbank.ItemVersion", on_delete=models.CASCADE, related_name="calibration"
    )
    difficulty = models.FloatField(help_text="Rasch difficulty in logits on the bank scale.")
    se = models.FloatField(null=True, blank=True, help_text="Standard error of the difficulty.")
    n_responses = models.PositiveIntegerField(default=0)
    method = models.CharField(max_length=20, default="cml", help_text="cml, jml, mml, anchored…")
    calibrated_at = models.DateTimeField()

    class Meta:
        ordering = ["item_version"]

    def __str__(self) -> str:
        return f"{self.item_version_id}: b = {self.difficulty:.3f}"


class BaseForm(models.Model):
    """The form of a blueprint whose cut defines the standard for every other form of it.

    Equated forms take their tables from this form's cut: the ability that reaches the
    base form's cut scores 300 on every form of the blueprint.
    """

    blueprint = models.OneToOneField(
        "exams.Blueprint", on_delete=models.CASCADE, related_name="base"
    )
    form = models.ForeignKey("exams.ExamForm", on_delete=models.PROTECT, related_name="+")
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    set_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "base form"

    def __str__(self) -> str:
        return f"{self.blueprint}: {self.form}"


class CutProposalStatus(models.TextChoices):
    PENDING = "pending", "Waiting for a second person"
    CONFIRMED = "confirmed", "Confirmed and applied"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn by the proposer"


class CutProposalQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(program_q(user, "form__owner_program", shared=True))

    def pending(self):
        return self.filter(status=CutProposalStatus.PENDING)


class CutProposal(models.Model):
    """A new cut for a published form, proposed by one person and applied only when a
    different member of the form's program (or, for a shared form, another operator)
    confirms it: no one alone changes the standard candidates are scored against.

    `based_on_version` is the conversion table's version the proposal was made against:
    if the table changes meanwhile (another override, a re-equating) the proposal is
    stale and refused on confirmation, because the second person would be confirming a
    change to a table the proposer never saw.
    """

    form = models.ForeignKey(
        "exams.ExamForm", on_delete=models.CASCADE, related_name="cut_proposals"
    )
    cut = models.FloatField(help_text="The proposed raw cut (may be fractional).")
    reason = models.TextField()
    based_on_version = models.PositiveIntegerField()
    previous_cut = models.FloatField()
    status = models.CharField(
        max_length=10, choices=CutProposalStatus.choices, default=CutProposalStatus.PENDING
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    objects = CutProposalQuerySet.as_manager()
    history = HistoricalRecords(bases=[AuditRecord])

    class Meta:
        ordering = ["-proposed_at", "-pk"]
        constraints = [
            # One open proposal per form: a second would race the first for the table.
            models.UniqueConstraint(
                fields=["form"],
                condition=models.Q(status="pending"),
                name="cutproposal_one_pending_per_form",
            )
        ]

    def __str__(self) -> str:
        return f"Cut {self.cut:g} for {self.form} ({self.get_status_display().lower()})"

    def audit_program(self) -> int | None:
        return ExamForm.objects.filter(pk=self.form_id).values_list("owner_program", flat=True)[0]
