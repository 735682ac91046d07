from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q

from common.roles import Role
from exams.models import Blueprint, CandidateProfile, ExamForm, blueprint_totals_error
from exams.services import PRACTICE_MAX_ITEMS
from questionbank.models import Domain


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

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if ExamForm.objects.filter(name=name).exists():
            raise ValidationError("A form with this name exists.")
        return name


class CandidateField(forms.CharField):
    """A candidate typed by username or e-mail, cleaned to the user.

    The admin's autocomplete and raw-id pickers open the user admin, which instructors may
    not use (common.roles), so the accommodation form asks for what they know instead.
    """

    def prepare_value(self, value):
        if isinstance(value, int):  # the stored user's pk, on a change page
            user = get_user_model().objects.filter(pk=value).first()
            return user.get_username() if user else value
        return value

    def clean(self, value):
        text = super().clean(value).strip()
        matches = list(
            get_user_model()
            .objects.filter(groups__name=Role.CANDIDATE.value)
            .filter(Q(username__iexact=text) | Q(email__iexact=text))[:2]
        )
        if not matches:
            raise ValidationError(f"No candidate has the username or e-mail {text!r}.")
        if len(matches) > 1:
            raise ValidationError(f"{text!r} is the e-mail of several candidates: use a username.")
        return matches[0]


class CandidateProfileForm(forms.ModelForm):
    user = CandidateField(label="Candidate", help_text="Their username or e-mail address.")

    class Meta:
        model = CandidateProfile
        fields = ["user", "time_multiplier", "note"]
