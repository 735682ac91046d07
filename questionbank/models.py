from __future__ import annotations

import string

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from common.errors import ApplicationError
from questionbank.validation import MAX_CHOOSE, MIN_CHOOSE
from tenancy.audit_base import AuditRecord
from tenancy.scoping import program_q

CODE_SET_YEAR_MIN, CODE_SET_YEAR_MAX = 2015, 2100
CODE_SET_YEAR_VALIDATORS = [
    MinValueValidator(CODE_SET_YEAR_MIN),
    MaxValueValidator(CODE_SET_YEAR_MAX),
]


class Domain(models.Model):
    number = models.PositiveSmallIntegerField(unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return f"{self.number}. {self.name}"


def owner_program_field():
    # Null: shared content (the shipped sample bank), which every program may use and only
    # the platform operator changes. Otherwise the program that authored it: only its
    # staff see it.
    return models.ForeignKey(
        "tenancy.Program",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="program",
        help_text="Empty for shared content (the operator's).",
    )


class OwnedQuerySet(models.QuerySet):
    """Bank content scoped by its owner program (`owner_path` leads to it)."""

    owner_path = "owner_program"

    def visible_to(self, user):
        """Shared content and the user's programs' own (the operator: everything)."""
        return self.filter(program_q(user, self.owner_path, shared=True))

    def editable_by(self, user):
        """The user's programs' own content (the operator: everything)."""
        return self.filter(program_q(user, self.owner_path))

    def shared_or_of(self, program_id: int | None):
        """What content of `program_id` may use: shared content and its own."""
        return self.usable_by([] if program_id is None else [program_id])

    def usable_by(self, program_ids):
        """Shared content and that of `program_ids`."""
        q = Q(**{f"{self.owner_path}__isnull": True})
        if program_ids:
            q |= Q(**{f"{self.owner_path}__in": sorted(program_ids)})
        return self.filter(q)


class Setting(models.TextChoices):
    INPATIENT = "inpatient", "Inpatient"
    OUTPATIENT = "outpatient", "Outpatient"
    OTHER = "other", "Other"


class Case(models.Model):
    """A health-record scenario shared by several items."""

    key = models.SlugField(max_length=40, unique=True, help_text="Stable identifier, e.g. IP-01")
    title = models.CharField(max_length=200)
    setting = models.CharField(max_length=12, choices=Setting.choices)
    # [{"heading": "...", "body": "..."}], in reading order.
    sections = models.JSONField(default=list)
    # Correct coding of an inpatient case, for DRG display: principal_diagnosis,
    # secondary_diagnoses, procedures.
    coding = models.JSONField(default=dict, blank=True)
    code_set_year = models.PositiveSmallIntegerField(validators=CODE_SET_YEAR_VALIDATORS)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    owner_program = owner_program_field()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return f"{self.key}: {self.title}"


def case_sections_errors(sections) -> list[str]:
    if not isinstance(sections, list) or not sections:
        return ["A case needs at least one section of documentation."]
    errors = []
    for number, section in enumerate(sections, start=1):
        if not isinstance(section, dict):
            errors.append(f"Section {number} must be an object with a heading and a body.")
            continue
        if not str(section.get("heading", "")).strip():
            errors.append(f"Section {number} needs a heading.")
        if not str(section.get("body", "")).strip():
            errors.append(f"Section {number} needs a body.")
    return errors


# The shape of Case.coding that the bank format (docs/bank-format.md), the importer and the
# MS-DRG grouping read: a code, and lists of codes. `assumes_query_answer` is text: where
# the record leaves a question that a query would settle, the answer this coding (and so
# the MS-DRG shown) assumes.
CODING_TEXT_KEYS = ("principal_diagnosis", "assumes_query_answer")
CODING_LIST_KEYS = ("secondary_diagnoses", "procedures")
CODING_EXAMPLE = (
    '{"principal_diagnosis": "A41.9", "secondary_diagnoses": ["J18.9", "N17.9"], "procedures": []}'
)


def coding_errors(coding) -> list[tuple[str, str]]:
    """Problems with the shape of a case's coding, as (key, message), key "" for the whole;
    empty when it can be stored and exported."""
    if not isinstance(coding, dict):
        return [
            ("", f"The coding must be a JSON object such as {CODING_EXAMPLE}, or {{}} for none.")
        ]
    errors = []
    for key in CODING_TEXT_KEYS:
        value = coding.get(key)
        if value is not None and not isinstance(value, str):
            example = '"A41.9"' if key == "principal_diagnosis" else "a sentence"
            errors.append((key, f'"{key}" must be text, e.g. {example}.'))
    for key in CODING_LIST_KEYS:
        value = coding.get(key)
        if value is None:
            continue
        if not isinstance(value, list) or not all(isinstance(code, str) for code in value):
            example = '["N17.9"] (or [] for none)'
            errors.append((key, f'"{key}" must be a list of codes as strings, e.g. {example}.'))
    return errors


class Item(models.Model):
    """The stable identity of a question; its content lives in versions."""

    key = models.SlugField(max_length=40, unique=True, help_text="Stable identifier, e.g. D1-0001")
    owner_program = owner_program_field()
    # Items that teach or test the same fact: assembly never puts two enemies on one form.
    # Symmetric, and held by the identity so that it outlives any version.
    enemies = models.ManyToManyField(
        "self",
        symmetrical=True,
        blank=True,
        help_text="Items that must never share a form with this one (both ways).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OwnedQuerySet.as_manager()
    history = HistoricalRecords(bases=[AuditRecord])

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key

    def audit_program(self) -> int | None:
        return self.owner_program_id

    @property
    def latest_version(self) -> ItemVersion | None:
        return self.versions.order_by("-number").first()


def enemy_pairs() -> set[frozenset[int]]:
    """Every declared enemy pair of the bank, as a set of two item ids."""
    through = Item.enemies.through
    return {
        frozenset(pair)
        for pair in through.objects.values_list("from_item_id", "to_item_id")
        if pair[0] != pair[1]
    }


class ItemKind(models.TextChoices):
    SINGLE = "single", "Multiple choice"
    MULTIPLE = "multiple", "Multiple response"
    # The candidate is not told how many options are keys; `choose` holds the number of
    # keys for the bank's own use and is never sent to the page.
    SELECT_ALL = "select_all", "Select all that apply"


class ItemStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    APPROVED = "approved", "Approved"
    OPERATIONAL = "operational", "Operational"
    PRETEST = "pretest", "Pretest"
    RETIRED = "retired", "Retired"


class ItemVersionQuerySet(OwnedQuerySet):
    owner_path = "item__owner_program"

    def operational(self):
        return self.filter(status=ItemStatus.OPERATIONAL)

    def pretest(self):
        return self.filter(status=ItemStatus.PRETEST)

    def latest(self):
        """The newest version of each item."""
        newest = ItemVersion.objects.filter(item=models.OuterRef("item")).order_by("-number")
        return self.filter(pk=models.Subquery(newest.values("pk")[:1]))


class LockedVersionError(ApplicationError):
    """Raised when code tries to change a version that has been delivered."""

    status_code = 409


class ItemVersion(models.Model):
    """The content of an item at one point in time.

    A locked version (one delivered on a form) is never edited: revising it creates the
    next version, so responses and statistics always point at what candidates saw.
    """

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(default=1)
    domain = models.ForeignKey(Domain, on_delete=models.PROTECT, related_name="item_versions")
    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.PROTECT, related_name="item_versions"
    )
    kind = models.CharField(max_length=10, choices=ItemKind.choices, default=ItemKind.SINGLE)
    choose = models.PositiveSmallIntegerField(
        default=1,
        help_text="How many options the candidate picks (1 for multiple choice). For select "
        "all that apply it is set to the number of keys and never shown to candidates.",
    )
    partial_credit = models.BooleanField(
        default=False,
        help_text="Multiple response and select all that apply only: credit "
        "(keys chosen − wrong options chosen) / keys, never below 0. Off: all or nothing.",
    )
    stem = models.TextField()
    rationale = models.TextField(blank=True)
    references = models.TextField(blank=True)
    code_set_year = models.PositiveSmallIntegerField(validators=CODE_SET_YEAR_VALIDATORS)
    status = models.CharField(max_length=12, choices=ItemStatus.choices, default=ItemStatus.DRAFT)
    locked = models.BooleanField(default=False, editable=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ItemVersionQuerySet.as_manager()
    # Content and status, with who and when; `updated_at` alone changing is no news.
    history = HistoricalRecords(bases=[AuditRecord], excluded_fields=["updated_at"])

    class Meta:
        ordering = ["item__key", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["item", "number"], name="itemversion_unique_number"),
            models.CheckConstraint(
                condition=Q(choose__gte=MIN_CHOOSE) & Q(choose__lte=MAX_CHOOSE),
                name="itemversion_choose_range",
            ),
        ]
        indexes = [models.Index(fields=["status", "domain"])]
        permissions = [
            ("review_itemversion", "Can approve or return items in review"),
            ("activate_itemversion", "Can make approved items operational or pretest, or retire"),
        ]
        verbose_name = "item"

    def __str__(self) -> str:
        return f"{self.item.key} v{self.number}"

    def save(self, *args, **kwargs):
        if self.pk and not kwargs.pop("allow_locked", False):
            stored = ItemVersion.objects.filter(pk=self.pk).values_list("locked", flat=True).first()
            if stored:
                raise LockedVersionError(
                    f"{self} has been delivered and cannot be edited; "
                    "revise it to make a new version."
                )
        super().save(*args, **kwargs)

    def audit_program(self) -> int | None:
        return Item.objects.filter(pk=self.item_id).values_list("owner_program", flat=True).first()


class Option(models.Model):
    version = models.ForeignKey(ItemVersion, on_delete=models.CASCADE, related_name="options")
    position = models.PositiveSmallIntegerField()
    text = models.CharField(max_length=500)
    is_key = models.BooleanField(default=False)

    class Meta:
        ordering = ["version", "position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "position"], name="option_unique_position")
        ]

    def __str__(self) -> str:
        return f"{self.letter}. {self.text}"

    def save(self, *args, **kwargs):
        if ItemVersion.objects.filter(pk=self.version_id, locked=True).exists():
            raise LockedVersionError(f"{self.version} is locked; its options cannot change.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if ItemVersion.objects.filter(pk=self.version_id, locked=True).exists():
            raise LockedVersionError(f"{self.version} is locked; its options cannot change.")
        return super().delete(*args, **kwargs)

    @property
    def letter(self) -> str:
        return string.ascii_uppercase[self.position]


class AngoffRatingQuerySet(OwnedQuerySet):
    owner_path = "item_version__item__owner_program"


class AngoffRating(models.Model):
    """One judge's estimate that a minimally competent candidate answers correctly."""

    item_version = models.ForeignKey(
        ItemVersion, on_delete=models.CASCADE, related_name="angoff_ratings"
    )
    judge = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    rating = models.DecimalField(
        max_digits=4,
        decimal_places=3,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text="Probability from 0 to 1, e.g. 0.65",
    )
    rated_at = models.DateTimeField(auto_now=True)

    objects = AngoffRatingQuerySet.as_manager()
    history = HistoricalRecords(bases=[AuditRecord])

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item_version", "judge"], name="angoff_one_per_judge"),
            models.CheckConstraint(
                condition=Q(rating__gte=0) & Q(rating__lte=1), name="angoff_rating_0_1"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item_version}: {self.rating} by {self.judge}"

    def audit_program(self) -> int | None:
        return (
            Item.objects.filter(versions=self.item_version_id)
            .values_list("owner_program", flat=True)
            .first()
        )


class StatusChange(models.Model):
    """Audit trail of the review workflow."""

    item_version = models.ForeignKey(
        ItemVersion, on_delete=models.CASCADE, related_name="status_changes"
    )
    from_status = models.CharField(max_length=12, choices=ItemStatus.choices)
    to_status = models.CharField(max_length=12, choices=ItemStatus.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.item_version}: {self.from_status} → {self.to_status}"
