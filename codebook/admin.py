"""Code sets are loaded by management commands; the admin only shows them."""

from django.contrib import admin

from codebook.models import Code, CodeSet, DrgWeight


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CodeSet)
class CodeSetAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "code_count", "complete", "source", "loaded_at"]
    list_filter = ["system", "year", "complete"]


@admin.register(Code)
class CodeAdmin(ReadOnlyAdmin):
    list_display = ["display", "description", "kind", "billable", "code_set"]
    list_filter = ["code_set", "kind", "billable"]
    search_fields = ["=code", "description"]
    show_full_result_count = False
    list_select_related = ["code_set"]
    exclude = ["search_vector"]


@admin.register(DrgWeight)
class DrgWeightAdmin(ReadOnlyAdmin):
    list_display = ["drg", "title", "year", "mdc", "drg_type", "weight"]
    list_filter = ["year", "drg_type"]
    search_fields = ["=drg", "title"]
