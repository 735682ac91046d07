from django.contrib import admin, messages

from common.errors import ApplicationError
from lti import services
from lti.models import Context, GradePost, LtiUser, Registration, ResourceLink, ToolKey
from tenancy.admin_scoping import ProgramScopedAdmin


# LTI is the platform operator's to set up (no role grants these permissions); the admins
# are scoped to programs all the same, so a grant made later cannot reach another program.
@admin.register(Registration)
class RegistrationAdmin(ProgramScopedAdmin):
    list_display = ["__str__", "program", "issuer", "client_id", "created_at"]
    list_filter = ["program"]
    search_fields = ["issuer", "client_id", "name"]


@admin.register(ToolKey)
class ToolKeyAdmin(admin.ModelAdmin):
    """The tool's own keys: the platform operator's alone, whatever permissions say."""

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    # The private key is never shown, not even here.
    list_display = ["kid", "is_active", "created_at", "retired_at"]
    fields = ["kid", "public_key_pem", "is_active", "created_at", "retired_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False


@admin.register(LtiUser)
class LtiUserAdmin(ProgramScopedAdmin):
    program_path = "registration__program"

    list_display = ["sub", "registration", "user", "created_at"]
    raw_id_fields = ["user"]
    search_fields = ["sub", "user__username"]


@admin.action(description="Sync roster from the LMS (Names and Role Provisioning)")
def sync_roster(modeladmin, request, queryset):
    for context in queryset.select_related("registration", "cohort"):
        try:
            count = services.roster_sync(context=context)
        except ApplicationError as exc:
            modeladmin.message_user(request, exc.user_message, messages.ERROR)
        except Exception as exc:  # the platform's service failed: say so, do not 500
            modeladmin.message_user(request, f"{context}: the LMS refused ({exc})", messages.ERROR)
        else:
            modeladmin.message_user(request, f"{context}: {count} learner(s) in the cohort.")


@admin.register(Context)
class ContextAdmin(ProgramScopedAdmin):
    program_path = "registration__program"

    list_display = ["__str__", "registration", "cohort", "context_id"]
    raw_id_fields = ["cohort"]
    actions = [sync_roster]


@admin.register(ResourceLink)
class ResourceLinkAdmin(ProgramScopedAdmin):
    program_path = "context__registration__program"

    list_display = ["__str__", "context", "form", "review_policy"]
    raw_id_fields = ["form"]
    filter_horizontal = ["learners"]


@admin.register(GradePost)
class GradePostAdmin(ProgramScopedAdmin):
    program_path = "lti_user__registration__program"

    list_display = ["attempt", "line_item", "status", "tries", "next_try_at", "sent_at"]
    list_filter = ["status"]
    raw_id_fields = ["attempt", "link", "lti_user"]
