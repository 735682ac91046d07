from __future__ import annotations

import re

from django import forms
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet

from codebook.models import CodeSystem
from codebook.selectors import codesets_of
from questionbank.models import Case, Item, ItemVersion, case_sections_errors, coding_errors
from questionbank.validation import MAX_CHOOSE, MIN_CHOOSE, OptionData, content_errors
from tenancy.forms import program_choice
from tenancy.models import Program

_HEADING = re.compile(r"^##\s*(.+?)\s*$")


def sections_to_text(sections) -> str:
    return "\n\n".join(f"## {s['heading']}\n{s['body'].strip()}" for s in sections or [])


def text_to_sections(text: str) -> list[dict]:
    sections: list[dict] = []
    for line in text.splitlines():
        match = _HEADING.match(line)
        if match:
            sections.append({"heading": match.group(1), "body": ""})
        elif sections:
            sections[-1]["body"] += line + "\n"
        elif line.strip():
            raise ValidationError(
                "Start the documentation with a section heading line "
                "such as '## History and physical'."
            )
    return [{"heading": s["heading"], "body": s["body"].strip()} for s in sections]


class CaseAdminForm(forms.ModelForm):
    documentation = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 24, "class": "vLargeTextField"}),
        help_text="Each section starts with a line '## Heading' (e.g. '## Operative report').",
    )

    # Only on the add page of staff who hold roles in several programs (and the operator's);
    # set up by the admin (program_setup).
    program = forms.ModelChoiceField(
        queryset=Program.objects.none(),
        required=False,
        help_text="The program the case belongs to: only its staff see it.",
    )

    class Meta:
        model = Case
        fields = ["key", "title", "setting", "code_set_year", "coding"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["documentation"].initial = sections_to_text(self.instance.sections)
        if "coding" in self.fields:  # absent on a read-only page (shared content)
            self.fields["coding"].required = False

    def clean_documentation(self):
        sections = text_to_sections(self.cleaned_data["documentation"])
        problems = case_sections_errors(sections)
        if problems:
            raise ValidationError(problems)
        # Set before the model's own validation runs (in _post_clean), which checks it.
        self.instance.sections = sections
        return sections

    def clean_coding(self):
        coding = self.cleaned_data.get("coding")
        if coding is None:
            return {}
        problems = coding_errors(coding)
        if problems:
            raise ValidationError([message for _, message in problems])
        return coding


def loaded_cm_years() -> list[int]:
    """The fiscal years of the loaded ICD-10-CM code sets, newest first."""
    return [s.year for s in codesets_of(system=CodeSystem.ICD10CM)]


def program_setup(form: forms.Form, user, *, what: str) -> None:
    """The program choice of a new row's admin form (tenancy.forms.program_choice); the
    admin lists the field only for people who choose (several programs, the operator)."""
    if "program" in form.fields:
        program_choice(form.fields["program"], user, what=what, shared_label="Shared")
        if user.is_superuser:
            form.fields["program"].help_text += " Leave it shared for every program to use."


class ItemVersionAdminForm(forms.ModelForm):
    item_key = forms.SlugField(
        max_length=40, label="Item key", help_text="Stable identifier, e.g. D1-0101."
    )
    # Only on the add page of staff who hold roles in several programs (and the operator's).
    program = forms.ModelChoiceField(
        queryset=Program.objects.none(),
        required=False,
        help_text="The program the item belongs to: only its staff see it.",
    )
    # Held by the item, not the version: changing them makes no new version.
    enemies = forms.ModelMultipleChoiceField(
        queryset=Item.objects.order_by("key"),
        required=False,
        widget=FilteredSelectMultiple("enemies", is_stacked=False),
        help_text="Items that teach or test the same fact: assembly never puts this item "
        "and an enemy on one form. Both ways: the other item lists this one too.",
    )

    class Meta:
        model = ItemVersion
        fields = [
            "domain",
            "case",
            "kind",
            "choose",
            "partial_credit",
            "stem",
            "rationale",
            "references",
            "code_set_year",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["item_key"].initial = self.instance.item.key
            self.fields["item_key"].disabled = True
            item = self.instance.item
            if "enemies" in self.fields:
                # Shared items and the item's own program's: never another program's keys.
                self.fields["enemies"].queryset = (
                    Item.objects.shared_or_of(item.owner_program_id)
                    .exclude(pk=item.pk)
                    .order_by("key")
                )
                self.fields["enemies"].initial = list(item.enemies.values_list("pk", flat=True))
        if "case" in self.fields:  # absent on a read-only page (shared content)
            # The choices the admin scoped to the user's programs, in key order.
            self.fields["case"].queryset = self.fields["case"].queryset.order_by("key")

    def clean_item_key(self):
        key = self.cleaned_data["item_key"]
        if not self.instance.pk and Item.objects.filter(key=key).exists():
            raise ValidationError(f"An item with key {key} exists; choose another key.")
        return key

    def clean_code_set_year(self):
        year = self.cleaned_data["code_set_year"]
        loaded = loaded_cm_years()
        # Without any code set loaded (a fresh install) there is nothing to check against.
        if year is not None and loaded and year not in loaded:
            raise ValidationError(
                f"No ICD-10-CM code set for FY{year} is loaded, so the codes in this item "
                f"cannot be checked: choose a loaded year ({', '.join(map(str, loaded))}) or "
                "load that year's code set first (manage.py load_codesets)."
            )
        return year

    def clean_choose(self):
        choose = self.cleaned_data["choose"]
        if choose is not None and not MIN_CHOOSE <= choose <= MAX_CHOOSE:
            raise ValidationError(
                f"Choose a number from {MIN_CHOOSE} to {MAX_CHOOSE}: how many options the "
                "candidate picks (1 for multiple choice)."
            )
        return choose

    def clean(self):
        cleaned = super().clean()
        status = self.instance.status if self.instance.pk else "draft"
        if status != "draft" and not (cleaned.get("rationale") or "").strip():
            self.add_error("rationale", "A rationale is required before an item goes to review.")
        return cleaned


class OptionInlineFormSet(BaseInlineFormSet):
    """Validates the options against the item's type and 'choose' from the same POST."""

    def option_data(self) -> list[OptionData]:
        result = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if not data or data.get("DELETE") or not (data.get("text") or "").strip():
                continue
            result.append(OptionData(data["text"].strip(), bool(data.get("is_key"))))
        return result

    def _construct_form(self, i, **kwargs):
        # A blank new row is skipped rather than "required": too few options is reported
        # below with the rule ("An item has 3 to 6 options"), not on the blank row.
        form = super()._construct_form(i, **kwargs)
        if i >= self.initial_form_count():
            form.empty_permitted = True
        return form

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        kind = self.data.get("kind", "single")
        try:
            choose = int(self.data.get("choose") or 1)
        except ValueError:
            return  # the parent form reports the bad number
        if not MIN_CHOOSE <= choose <= MAX_CHOOSE:
            return  # the parent form reports the allowed range
        # The same rules services._check_content applies on save, so that a problem is shown
        # on the form instead of failing the save. The stem, the rationale for the status
        # and the kind are checked by the parent form's own fields and clean().
        errors = content_errors(
            kind=kind,
            choose=choose,
            options=self.option_data(),
            stem="-",
            rationale="-",
            status="draft",
            partial_credit=forms.BooleanField().to_python(self.data.get("partial_credit")),
        )
        messages = (
            errors.get("options", []) + errors.get("choose", []) + errors.get("partial_credit", [])
        )
        if messages:
            raise ValidationError(messages)


class ImportForm(forms.Form):
    file = forms.FileField(help_text="JSON (docs/bank-format.md) or CSV for simple items.")
    program = forms.ModelChoiceField(
        queryset=Program.objects.none(),
        required=False,
        help_text="The program the items belong to: only its staff see them.",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        program_choice(self.fields["program"], user, what="the items", shared_label="Shared")
        if user.is_superuser:
            self.fields["program"].help_text += " Leave empty for shared content."

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".json", ".csv")):
            raise ValidationError("Upload a .json or .csv file.")
        if upload.size > 20 * 1024 * 1024:
            raise ValidationError("The file is larger than 20 MB.")
        return upload


class AngoffForm(forms.Form):
    rating = forms.DecimalField(
        min_value=0,
        max_value=1,
        decimal_places=3,
        max_digits=4,
        help_text="Probability (0–1) that a minimally competent candidate answers correctly.",
    )
