from django import forms
from django.core.exceptions import ValidationError

from exams.models import Blueprint, ExamForm, blueprint_totals_error
from exams.services import PRACTICE_MAX_ITEMS
from questionbank.models import Domain
from tenancy.forms import program_choice
from tenancy.models import Program


class PracticeForm(forms.Form):
    domains = forms.ModelMultipleChoiceField(
        queryset=Domain.objects.order_by("number"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one domain."},
    )
    count = forms.IntegerField(
        label="Number of items", min_value=1, max_value=PRACTICE_MAX_ITEMS, initial=10
    )
    timed = forms.BooleanField(
        label="Timed (at the pace of the real exam, about 2¼ minutes per item)",
        required=False,
        initial=True,
    )
    adaptive = forms.BooleanField(
        label="Adaptive: each item chosen for your current ability, weighted toward your "
        "weakest domains; stops when your estimate is precise (or at the number above)",
        required=False,
    )


class BlueprintDomainFormSet(forms.BaseInlineFormSet):
    """Checks that the domains' counts and the pretest count add up to the total."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        counts, seen = [], set()
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if not data or data.get("DELETE"):
                continue
            if data["domain"].pk in seen:
                raise ValidationError(f"Domain {data['domain'].number} is listed twice.")
            seen.add(data["domain"].pk)
            counts.append(data["scored_items"])
        blueprint = self.instance
        error = blueprint_totals_error(
            total_items=blueprint.total_items or 0,
            pretest_count=blueprint.pretest_count or 0,
            domain_counts=counts,
        )
        if error:
            raise ValidationError(error)


class AssembleForm(forms.Form):
    blueprint = forms.ModelChoiceField(queryset=Blueprint.objects.all())
    name = forms.CharField(max_length=80)
    seed = forms.IntegerField(
        min_value=0, help_text="The same bank and seed always give the same form."
    )
    exclude_forms = forms.ModelMultipleChoiceField(
        queryset=ExamForm.objects.exams(),
        required=False,
        help_text="Avoid the items of these forms where the bank allows (e.g. earlier forms "
        "the same candidates sat).",
    )

    program = forms.ModelChoiceField(
        queryset=Program.objects.none(),
        required=False,
        help_text="The program the form belongs to: only its staff see it, and it may use "
        "shared items and the program's own.",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["exclude_forms"].queryset = ExamForm.objects.exams().visible_to(user)
        # Staff always author for one of their programs (choosing when they hold roles in
        # several); shared forms are the operator's.
        program_choice(self.fields["program"], user, what="the form", shared_label="Shared")
        if user.is_superuser:
            self.fields["program"].help_text += " Leave empty for a shared form."

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if ExamForm.objects.filter(name=name).exists():
            raise ValidationError("A form with this name exists.")
        return name
