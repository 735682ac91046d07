from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from cohorts.models import Accommodation, Assignment, Cohort, Membership
from cohorts.selectors import Filters, assignable_forms
from tenancy.forms import program_choice
from tenancy.models import Program, StaffRole


class DateInput(forms.DateInput):
    input_type = "date"


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def _people(role: str, programs):
    """Active staff holding `role` in one of `programs`: a cohort's people come from its
    program's staff, never from another program's."""
    return (
        get_user_model()
        .objects.filter(
            program_roles__role=role, program_roles__program__in=programs, is_active=True
        )
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


class PersonChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        full = obj.get_full_name()
        return f"{full} ({obj.username})" if full else obj.username


class CohortForm(forms.ModelForm):
    program = forms.ModelChoiceField(queryset=Program.objects.none(), empty_label=None)
    instructors = PersonChoiceField(
        queryset=get_user_model().objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="They can read the dashboards and set accommodations.",
    )
    managers = PersonChoiceField(
        queryset=get_user_model().objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Other program managers who run this cohort with you.",
    )

    class Meta:
        model = Cohort
        fields = ["name", "program", "start_date", "end_date"]
        widgets = {"start_date": DateInput(), "end_date": DateInput()}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # A cohort stays in its program (cohorts.services.cohort_update).
            programs = Program.objects.filter(pk=self.instance.program_id)
            self.fields["program"].disabled = True
        else:
            # Managers of several programs choose; of one, they never see the choice.
            program_choice(
                self.fields["program"], user, roles=[StaffRole.MANAGER], what="the cohort"
            )
            programs = self.fields["program"].queryset
        self.fields["program"].queryset = programs
        # Querysets are evaluated per form, so new people appear without a restart.
        self.fields["instructors"].queryset = _people(StaffRole.INSTRUCTOR, programs)
        self.fields["managers"].queryset = _people(StaffRole.MANAGER, programs)
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

    def __init__(self, *args, program_id: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        # Times are read and shown in the staff member's own zone (their profile); say which.
        zone = timezone.get_current_timezone_name()
        self.fields["opens_at"].label = f"Opens ({zone})"
        self.fields["closes_at"].label = f"Closes ({zone})"
        if self.instance.pk:
            del self.fields["form"]
        else:
            self.fields["form"].queryset = assignable_forms(program_id=program_id)


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


class MemberField(forms.CharField):
    """A member of the user's programs' cohorts, typed by username or e-mail.

    The admin's pickers open the user admin, which staff may not use (common.roles); and
    a lookup over every account would tell whether an address has one. This one looks
    only among the members of the programs the user works in, and says the same for an
    address with no account as for one outside those programs.
    """

    def __init__(self, *args, **kwargs):
        self.members = get_user_model().objects.none()
        super().__init__(*args, **kwargs)

    def prepare_value(self, value):
        if isinstance(value, int):  # the stored user's pk, on a change page
            user = get_user_model().objects.filter(pk=value).first()
            return user.get_username() if user else value
        return value

    def clean(self, value):
        text = super().clean(value).strip()
        matches = list(
            self.members.filter(Q(username__iexact=text) | Q(email__iexact=text)).distinct()[:2]
        )
        if len(matches) != 1:
            raise ValidationError(
                f"No single member of your programs' cohorts has the username or e-mail "
                f"{text!r}; use their username as the members page shows it."
            )
        return matches[0]


class AccommodationAdminForm(forms.ModelForm):
    user = MemberField(label="Candidate", help_text="Their username or e-mail address.")

    class Meta:
        model = Accommodation
        fields = ["program", "user", "time_multiplier", "note"]

    def __init__(self, *args, request_user=None, **kwargs):
        super().__init__(*args, **kwargs)
        programs = Program.objects.visible_to(request_user)
        self.fields["program"].queryset = programs
        self.fields["user"].members = get_user_model().objects.filter(
            pk__in=Membership.objects.filter(cohort__program__in=programs).values("user_id")
        )

    def clean(self):
        data = super().clean()
        program, user = data.get("program"), data.get("user")
        if (
            program
            and user
            and not Membership.objects.filter(cohort__program=program, user=user).exists()
        ):
            self.add_error("user", "This candidate is not in a cohort of that program.")
        return data


class StaffAddForm(forms.Form):
    """A role for a person in a program, by their e-mail address."""

    email = forms.EmailField(label="E-mail", max_length=254)
    name = forms.CharField(
        label="Name",
        max_length=150,
        required=False,
        help_text="Used if the address has no account yet.",
    )
    role = forms.ChoiceField(label="Role", choices=StaffRole.choices, initial=StaffRole.INSTRUCTOR)


class CutDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("confirm", "Confirm and apply"), ("reject", "Reject or withdraw")],
        error_messages={"required": "Choose to confirm or to reject the proposed cut."},
    )
    note = forms.CharField(
        label="Note",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required to reject; kept on record with your name and the time.",
    )
