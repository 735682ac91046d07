from django.contrib import admin

from cohorts.models import Assignment, Cohort, Membership


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
class CohortAdmin(admin.ModelAdmin):
    list_display = ["name", "program", "start_date", "end_date", "enrolment_code", "enrolment_open"]
    list_filter = ["enrolment_open", "program"]
    search_fields = ["name", "program", "enrolment_code"]
    filter_horizontal = ["managers", "instructors"]
    readonly_fields = ["enrolment_code", "created_at"]
    inlines = [AssignmentInline, MembershipInline]


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["form", "cohort", "opens_at", "closes_at", "max_attempts", "review_policy"]
    list_filter = ["review_policy"]
    raw_id_fields = ["form", "cohort"]
