"""The cohorts' admin pages, scoped to the user's programs (tenancy.admin_scoping): another
program's cohorts, enrolment codes, rosters, assignments and accommodations are not listed
and answer 404 by id."""

from django.contrib import admin
from django.contrib.auth import get_user_model

from cohorts.forms import AccommodationAdminForm
from cohorts.models import Accommodation, Assignment, Cohort, Membership
from common.admin_display import person_field
from tenancy.admin_scoping import ProgramScopedAdmin
from tenancy.forms import program_choice
from tenancy.models import Program, StaffRole


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]
    fields = ["user", "joined_at", "source"]


class AssignmentInline(admin.TabularInline):
    model = Assignment
    extra = 0
    raw_id_fields = ["form"]
    fields = ["form", "opens_at", "closes_at", "max_attempts", "review_policy"]


@admin.register(Cohort)
class CohortAdmin(ProgramScopedAdmin):
    list_display = ["name", "program", "start_date", "end_date", "enrolment_code", "enrolment_open"]
    list_filter = ["enrolment_open", ("program", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "program__name", "enrolment_code"]
    list_select_related = ["program"]
    filter_horizontal = ["managers", "instructors"]
    readonly_fields = ["enrolment_code", "created_at"]
    inlines = [AssignmentInline, MembershipInline]

    def get_queryset(self, request):
        # The same rule as the dashboards: program managers see their programs' cohorts,
        # instructors the cohorts they teach.
        return super(ProgramScopedAdmin, self).get_queryset(request).visible_to(request.user)

    def may_change_object(self, request, obj) -> bool:
        return obj is None or Cohort.objects.managed_by(request.user).filter(pk=obj.pk).exists()

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name in ("managers", "instructors"):
            # People of the user's programs only.
            role = "manager" if db_field.name == "managers" else "instructor"
            kwargs["queryset"] = (
                get_user_model()
                .objects.filter(
                    program_roles__role=role,
                    program_roles__program__in=Program.objects.visible_to(request.user),
                )
                .distinct()
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if obj is None and "program" in form.base_fields:
            user = request.user

            class WithProgram(form):
                def __init__(self, *args, **kw):
                    super().__init__(*args, **kw)
                    # A new cohort: one of the programs the user manages, chosen only by
                    # managers of several (tenancy.forms.program_choice).
                    program_choice(
                        self.fields["program"], user, roles=[StaffRole.MANAGER], what="the cohort"
                    )

            return WithProgram
        return form

    def save_model(self, request, obj, form, change):
        obj._history_user = request.user
        super().save_model(request, obj, form, change)


@admin.register(Assignment)
class AssignmentAdmin(ProgramScopedAdmin):
    program_path = "cohort__program"
    list_display = ["form", "cohort", "opens_at", "closes_at", "max_attempts", "review_policy"]
    list_filter = ["review_policy"]
    list_select_related = ["form", "cohort"]
    raw_id_fields = ["form", "cohort"]

    def may_change_object(self, request, obj) -> bool:
        return (
            obj is None or Cohort.objects.managed_by(request.user).filter(pk=obj.cohort_id).exists()
        )


@admin.register(Accommodation)
class AccommodationAdmin(ProgramScopedAdmin):
    """Time accommodations, per program: only that program's staff see or change them."""

    form = AccommodationAdminForm
    list_display = ["user_name", "program", "time_multiplier", "note", "set_by_name", "set_at"]
    list_filter = [("program", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    list_select_related = ["user", "program", "set_by"]
    readonly_fields = ["set_by_name", "set_at"]

    user_name = person_field("user")
    set_by_name = person_field("set_by")

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)

        class Bound(form):
            def __init__(self, *args, **kw):
                super().__init__(*args, request_user=request.user, **kw)

        return Bound

    def save_model(self, request, obj, form, change):
        obj.set_by = request.user
        obj._history_user = request.user
        super().save_model(request, obj, form, change)
