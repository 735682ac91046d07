"""Item analysis's additions to the bank's item admin, made from ItemAnalysisConfig.ready().

The bank is the ground floor and never imports item analysis; its ItemVersionAdmin offers
`queryset_extensions` and `detail_sections`, and this module fills them and adds the
statistics columns, the flag filter and the promotion action to the registered admin.
Review flags (a DIF run's C items) are scoped to the viewer's programs, so their column,
filter and section are added around get_queryset and get_object, which see the request.
"""

from __future__ import annotations

from django.contrib import admin

from itemanalysis.admin import (
    ItemFlagFilter,
    ReviewFlagFilter,
    item_statistics_section,
    promote_pretest_items,
    review_flag_column,
    review_flags_section,
    stat_difficulty,
    stat_flags,
    stat_item_rest,
    stat_p,
)
from itemanalysis.selectors import item_versions_with_review_flags, item_versions_with_statistics
from questionbank.admin import ItemVersionAdmin


@admin.display(description="Statistics")
def item_statistics(self, obj):
    return item_statistics_section(obj)


@admin.display(description="Review flags")
def review_flags(self, obj):
    return review_flags_section(obj, user=getattr(obj, "_viewer", None))


def extend_item_version_admin(model_admin: type[admin.ModelAdmin] = ItemVersionAdmin) -> None:
    if item_versions_with_statistics in model_admin.queryset_extensions:
        return  # ready() may run more than once (tests that reload apps)
    columns = [stat_p, stat_item_rest, stat_difficulty, stat_flags, review_flag_column]
    # Latest statistics come annotated on the list's queryset: no query per row.
    display = list(model_admin.list_display)
    at = display.index("updated_at") if "updated_at" in display else len(display)
    model_admin.list_display = display[:at] + columns + display[at:]
    filters = list(model_admin.list_filter)
    model_admin.list_filter = filters[:1] + [ItemFlagFilter, ReviewFlagFilter] + filters[1:]
    model_admin.actions = [*model_admin.actions, promote_pretest_items]
    model_admin.item_statistics = item_statistics
    model_admin.review_flags = review_flags
    model_admin.readonly_fields = [*model_admin.readonly_fields, "item_statistics", "review_flags"]
    model_admin.queryset_extensions = (
        *model_admin.queryset_extensions,
        item_versions_with_statistics,
    )
    model_admin.detail_sections = (
        *model_admin.detail_sections,
        ("Item statistics", "item_statistics"),
        ("Review flags", "review_flags"),
    )
    base_queryset, base_object = model_admin.get_queryset, model_admin.get_object

    def get_queryset(self, request):
        return item_versions_with_review_flags(base_queryset(self, request), user=request.user)

    def get_object(self, request, object_id, from_field=None):
        obj = base_object(self, request, object_id, from_field)
        if obj is not None:
            obj._viewer = request.user  # whose programs' review flags the page shows
        return obj

    model_admin.get_queryset = get_queryset
    model_admin.get_object = get_object
