from django.contrib import admin

from common.admin_display import person_field
from tenancy.admin_scoping import ProgramScopedAdmin
from tenancy.models import Program, ProgramStaff


class ProgramStaffInline(admin.TabularInline):
    model = ProgramStaff
    extra = 0
    raw_id_fields = ["user"]
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]


@admin.register(Program)
class ProgramAdmin(ProgramScopedAdmin):
    """Programs are the platform operator's to create; staff see their own."""

    program_path = "pk"
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def get_inlines(self, request, obj):
        return [ProgramStaffInline] if request.user.is_superuser else []

    def scope(self, request, queryset):
        return queryset.visible_to(request.user)

    def program_of(self, obj):
        return obj.pk

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(ProgramStaff)
class ProgramStaffAdmin(ProgramScopedAdmin):
    """Who holds which role in which program: granted by the operator."""

    list_display = ["program", "user_name", "role", "created_at"]
    list_filter = [("program", admin.RelatedOnlyFieldListFilter), "role"]
    list_select_related = ["program", "user"]
    raw_id_fields = ["user"]

    user_name = person_field("user")

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser
