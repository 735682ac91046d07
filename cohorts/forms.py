from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib.auth import get_user_model

from cohorts.models import Assignment, Cohort
from cohorts.selectors import Filters, assignable_forms
from common.roles import Role


class DateInput(forms.DateInput):
    input_type = "date"


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def _people(role: Role):
    return (
        get_user_model()
        .objects.filter(groups__name=role.value, is_active=True)
        .order_by("last_name", "first_name", "username")
    )


class PersonChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        full = obj.get_full_name()
        return f"{full} ({obj.username})" if full else obj.username


class CohortForm(forms.ModelForm):
    instructors = PersonChoiceField(
        queryset=_people(Role.INSTRUCTOR),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="They can read the dashboards and set accommodations.",
    )
    managers = PersonChoiceField(
        queryset=_people(Role.MANAGER),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Other program managers who run this cohort with you.",
    )

    class Meta:
        model = Cohort
        fields = ["name", "program", "start_date", "end_date"]
        widgets = {"start_date": DateInput(), "end_date": DateInput()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Querysets are evaluated per form, so new people appear without a restart.
        self.fields["instructors"].queryset = _people(Role.INSTRUCTOR)
        self.fields["managers"].queryset = _people(Role.MANAGER)
        if self.instance.pk:
            self.fields["instructors"].initial = list(self.instance.instructors.all())
            self.fields["managers"].initial = list(self.instance.managers.all())


class JoinForm(forms.Form):
    code = forms.CharField(
        label="Enrolment code",
        max_length=20,
        help_text="Eight letters and digits, from your instructor or program manager.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )


class CandidateAddForm(forms.Form):
    name = forms.CharField(max_length=150)
    email = forms.EmailField(label="E-mail")


class RosterForm(forms.Form):
    roster = forms.FileField(
        label="Roster (CSV)",
        help_text="One candidate a line: name, email. A header line “name,email” is optional.",
    )


class AssignmentForm(forms.ModelForm):
    class Meta:
        model = Assignment
        fields = ["form", "opens_at", "closes_at", "max_attempts", "review_policy"]
        widgets = {"opens_at": DateTimeInput(), "closes_at": DateTimeInput()}
        labels = {
            "form": "Exam form",
            "opens_at": "Opens",
            "closes_at": "Closes",
            "max_attempts": "Attempts allowed",
            "review_policy": "Answer review",
        }
        help_texts = {
            # As on the real exam: once started, an attempt keeps its full time.
            "closes_at": "Leave empty to keep the form open. No attempt starts after this; "
            "attempts already started keep their full time.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            del self.fields["form"]
        else:
            self.fields["form"].queryset = assignable_forms()


class AccommodationForm(forms.Form):
    time_multiplier = forms.DecimalField(
        label="Time multiplier",
        min_value=Decimal("1.00"),
        max_value=Decimal("4.00"),
        max_digits=3,
        decimal_places=2,
        help_text="1.50 gives time and a half.",
    )
    note = forms.CharField(max_length=200, required=False, label="Reason or reference")


class FilterForm(forms.Form):
    form = forms.TypedChoiceField(coerce=int, required=False, empty_value=None, label="Form")
    date_from = forms.DateField(required=False, label="From", widget=DateInput())
    date_to = forms.DateField(required=False, label="To", widget=DateInput())

    def __init__(self, *args, forms_list=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["form"].choices = [("", "All forms")] + [(f.pk, f.name) for f in forms_list]

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The range ends before it starts.")
        return data

    def filters(self) -> Filters:
        if not self.is_valid():
            return Filters()
        d = self.cleaned_data
        return Filters(
            form_id=d.get("form"), date_from=d.get("date_from"), date_to=d.get("date_to")
        )
