"""Stored results of item analysis: runs, item and form statistics, pretest promotions.

The computations are in psychometrics (analysis, calibration; pure) and
itemanalysis.services (reads the responses, stores what they return).

History and idempotence: every row carries the fingerprint of the data it was computed
from. A run on unchanged data replaces the rows an earlier run stored from the same data,
so running twice adds nothing; a run on new data adds rows, which become the item's
history. Readers take the latest row per (item version, form, kind).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from tenancy.audit_base import AuditRecord
from tenancy.scoping import program_q


class AnalysisKind(models.TextChoices):
    CLASSICAL = "classical", "Classical statistics per form"
    RASCH = "rasch", "Rasch calibration of operational items"
    PRETEST = "pretest_anchor", "Anchored calibration of pretest items"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    # Another run of the same kind was already running; this one stored nothing.
    SKIPPED = "skipped", "Skipped"


class AnalysisRunQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status__in=[RunStatus.QUEUED, RunStatus.RUNNING])


class AnalysisRun(models.Model):
    """One execution of an analysis, with its progress, for the admin to follow."""

    kind = models.CharField(max_length=20, choices=AnalysisKind.choices)
    # Classical statistics of one form; null = every exam form with finished attempts.
    form = models.ForeignKey(
        "exams.ExamForm", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done (0–100).")
    message = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    task_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # What the run found: forms, items, responses, rows stored or replaced.
    summary = models.JSONField(default=dict, blank=True)

    objects = AnalysisRunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "analysis run"
        # The table kept its name when item analysis left the scoring app.
        db_table = "scoring_analysisrun"
        constraints = [
            # Two workers (or two clicks) never compute the same kind at once: the second
            # one's claim fails on this index and it is marked skipped.
            models.UniqueConstraint(
                fields=["kind"],
                condition=Q(status="running"),
                name="analysisrun_one_running_per_kind",
            ),
        ]

    def __str__(self) -> str:
        scope = f" of {self.form}" if self.form_id else ""
        return f"#{self.pk} {self.get_kind_display()}{scope} ({self.get_status_display()})"

    @property
    def is_active(self) -> bool:
        return self.status in (RunStatus.QUEUED, RunStatus.RUNNING)


class ItemStatisticQuerySet(models.QuerySet):
    def latest_first(self):
        """Bank-wide rows first (they pool every form), then by form, the newest first."""
        return self.order_by(F("form").asc(nulls_first=True), "-computed_at", "-id")


class ItemStatistic(models.Model):
    """Statistics of one item version: on one form (classical) or bank-wide (Rasch runs).

    Rates are out of all candidates in the group, by option letter (A, B, ...; the joined
    letters, e.g. "A+C", for a multiple-response selection); `key` is the keyed letter(s).
    """

    run = models.ForeignKey(AnalysisRun, on_delete=models.CASCADE, related_name="item_statistics")
    item_version = models.ForeignKey(
        "questionbank.ItemVersion", on_delete=models.CASCADE, related_name="statistics"
    )
    form = models.ForeignKey(
        "exams.ExamForm",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="item_statistics",
        help_text="Empty for bank-wide statistics (all exam forms).",
    )
    kind = models.CharField(max_length=20, choices=AnalysisKind.choices)
    is_pretest = models.BooleanField(default=False, help_text="Unscored (pretest) when computed.")
    computed_at = models.DateTimeField()
    fingerprint = models.CharField(max_length=40)
    n_responses = models.PositiveIntegerField()
    p = models.FloatField(null=True, blank=True)
    point_biserial = models.FloatField(null=True, blank=True)
    item_rest = models.FloatField(null=True, blank=True)
    discrimination_index = models.FloatField(null=True, blank=True)
    key = models.CharField(max_length=20, blank=True)
    option_rates_all = models.JSONField(default=dict, blank=True)
    option_rates_upper = models.JSONField(default=dict, blank=True)
    option_rates_lower = models.JSONField(default=dict, blank=True)
    difficulty = models.FloatField(null=True, blank=True)
    se = models.FloatField(null=True, blank=True)
    infit = models.FloatField(null=True, blank=True)
    outfit = models.FloatField(null=True, blank=True)
    # [{"code": "too_hard", "message": "..."}]; codes repeated in flag_codes (",a,b,") so
    # that list filters work on every database (JSON containment does not on SQLite).
    flags = models.JSONField(default=list, blank=True)
    flag_codes = models.CharField(max_length=200, blank=True)
    flag_count = models.PositiveSmallIntegerField(default=0)

    objects = ItemStatisticQuerySet.as_manager()

    class Meta:
        ordering = ["-computed_at", "-id"]
        verbose_name = "item statistic"
        # The table kept its name when item analysis left the scoring app.
        db_table = "scoring_itemstatistic"
        indexes = [
            models.Index(fields=["item_version", "kind", "computed_at"], name="itemstat_latest"),
            models.Index(fields=["kind", "form", "fingerprint"], name="itemstat_fingerprint"),
        ]

    def __str__(self) -> str:
        where = self.form or "bank"
        return f"{self.item_version_id} · {self.get_kind_display()} · {where}"

    def has_flag(self, code: str) -> bool:
        return f",{code}," in self.flag_codes


class FormStatistic(models.Model):
    """Test-level statistics of one form's operational (scored) items."""

    run = models.ForeignKey(AnalysisRun, on_delete=models.CASCADE, related_name="form_statistics")
    form = models.ForeignKey("exams.ExamForm", on_delete=models.CASCADE, related_name="statistics")
    computed_at = models.DateTimeField()
    fingerprint = models.CharField(max_length=40)
    n_attempts = models.PositiveIntegerField()
    n_items = models.PositiveSmallIntegerField()
    mean = models.FloatField(null=True, blank=True)
    sd = models.FloatField(null=True, blank=True)
    kr20 = models.FloatField(null=True, blank=True)
    sem = models.FloatField(null=True, blank=True)
    # {"max": 97, "counts": [attempts with raw 0, 1, ..., max]} (fractional raws rounded).
    score_distribution = models.JSONField(default=dict)
    # Worst first: [{"item_version": id, "key": "D1-0001", "position": 12,
    #                "kr20_if_deleted": 0.912, "gain": 0.004}]
    items_hurting_reliability = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-computed_at", "-id"]
        verbose_name = "form statistic"
        # The table kept its name when item analysis left the scoring app.
        db_table = "scoring_formstatistic"
        indexes = [models.Index(fields=["form", "computed_at"], name="formstat_latest")]

    def __str__(self) -> str:
        return f"{self.form} · {self.n_attempts} attempts · {self.computed_at:%Y-%m-%d %H:%M}"


class PretestPromotion(models.Model):
    """A pretest item made operational, with the evidence it was promoted on."""

    item_version = models.ForeignKey(
        "questionbank.ItemVersion", on_delete=models.PROTECT, related_name="promotions"
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)
    difficulty = models.FloatField(help_text="Rasch difficulty on the bank scale it carries.")
    se = models.FloatField(null=True, blank=True)
    n_responses = models.PositiveIntegerField()
    statistics = models.JSONField(default=dict, help_text="The statistics it was promoted on.")
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-at"]
        verbose_name = "pretest promotion"
        # The table kept its name when item analysis left the scoring app.
        db_table = "scoring_pretestpromotion"

    def __str__(self) -> str:
        return f"{self.item_version} promoted at {self.at:%Y-%m-%d %H:%M}"


class DifRun(models.Model):
    """A differential item functioning analysis someone recorded from the DIF page: the
    form, the split and its two groups, what it found, and who asked. Its C items were
    flagged for review (ItemReviewFlag)."""

    form = models.ForeignKey("exams.ExamForm", on_delete=models.CASCADE, related_name="+")
    split = models.CharField(max_length=40, help_text="The split provider's key.")
    reference = models.CharField(max_length=200, help_text="The reference group's label.")
    focal = models.CharField(max_length=200, help_text="The focal group's label.")
    # The group keys the split was built from (empty for splits without a choice).
    reference_key = models.CharField(max_length=100, blank=True)
    focal_key = models.CharField(max_length=100, blank=True)
    n_reference = models.PositiveIntegerField()
    n_focal = models.PositiveIntegerField()
    # {"A": n, "B": n, "C": n, "flagged": [version ids]}
    summary = models.JSONField(default=dict, blank=True)
    # The program it was run for (its staff see its flags); null: the platform operator's.
    program = models.ForeignKey(
        "tenancy.Program", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "DIF run"

    def __str__(self) -> str:
        return f"DIF run #{self.pk}: {self.reference} vs {self.focal} on {self.form}"


class ReviewFlagSource(models.TextChoices):
    DIF = "dif", "DIF category C"


class ItemReviewFlagQuerySet(models.QuerySet):
    def open(self):
        return self.filter(cleared_at__isnull=True)

    def visible_to(self, user):
        """Flags of the user's programs' runs (they name the program's groups)."""
        return self.filter(program_q(user, "program"))


class ItemReviewFlag(models.Model):
    """An item version flagged for a reviewer's attention, here by a DIF run that put it in
    ETS category C: the split and run that raised it, and its clearing by a reviewer with
    a note. One flag per item version, split and groups: a later run of the same
    comparison updates an open flag and does not raise again one a reviewer cleared."""

    item_version = models.ForeignKey(
        "questionbank.ItemVersion", on_delete=models.CASCADE, related_name="review_flags"
    )
    source = models.CharField(
        max_length=10, choices=ReviewFlagSource.choices, default=ReviewFlagSource.DIF
    )
    run = models.ForeignKey(DifRun, on_delete=models.CASCADE, related_name="flags")
    program = models.ForeignKey(
        "tenancy.Program", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # The comparison, so that a later run of it finds this flag.
    split = models.CharField(max_length=40)
    comparison = models.CharField(max_length=420, help_text="reference vs focal")
    category = models.CharField(max_length=1)
    delta = models.FloatField(null=True, blank=True, help_text="MH D-DIF")
    # The counts behind it: n and right answers per group.
    details = models.JSONField(default=dict, blank=True)
    raised_at = models.DateTimeField()
    cleared_at = models.DateTimeField(null=True, blank=True)
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True, help_text="The reviewer's conclusion.")

    objects = ItemReviewFlagQuerySet.as_manager()
    history = HistoricalRecords(bases=[AuditRecord])

    class Meta:
        ordering = ["-raised_at", "-id"]
        verbose_name = "item review flag"
        constraints = [
            models.UniqueConstraint(
                fields=["item_version", "source", "split", "comparison", "program"],
                name="review_flag_once_per_comparison",
            )
        ]

    def __str__(self) -> str:
        state = "cleared" if self.cleared_at else "open"
        return f"{self.get_source_display()} on {self.item_version} ({self.comparison}, {state})"

    @property
    def is_open(self) -> bool:
        return self.cleared_at is None

    def audit_program(self) -> int | None:
        return self.program_id
