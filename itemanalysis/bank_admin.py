"""Item analysis's additions to the bank's item admin, made from ItemAnalysisConfig.ready().

The bank is the ground floor and never imports item analysis; its ItemVersionAdmin offers
`queryset_extensions` and `detail_sections`, and this module fills them and adds the
statistics columns, the flag filter and the promotion action to the registered admin.
"""

from __future__ import annotations

from django.contrib import admin

from itemanalysis.admin import (
    ItemFlagFilter,
    item_statistics_section,
    promote_pretest_items,
    stat_difficulty,
    stat_flags,
    stat_item_rest,
    stat_p,
)
from itemanalysis.selectors import item_versions_with_statistics
from questionbank.admin import ItemVersionAdmin


@admin.display(description="Statistics")
def item_statistics(self, obj):
    return item_statistics_section(obj)


def extend_item_version_admin(model_admin: type[admin.ModelAdmin] = ItemVersionAdmin) -> None:
    if item_versions_with_statistics in model_admin.queryset_extensions:
        return  # ready() may run more than once (tests that reload apps)
    columns = [stat_p, stat_item_rest, stat_difficulty, stat_flags]
    # Latest statistics come annotated on the list's queryset: no query per row.
    display = list(model_admin.list_display)
    at = display.index("updated_at") if "updated_at" in display else len(display)
    model_admin.list_display = display[:at] + columns + display[at:]
    filters = list(model_admin.list_filter)
    model_admin.list_filter = filters[:1] + [ItemFlagFilter] + filters[1:]
    model_admin.actions = [*model_admin.actions, promote_pretest_items]
    model_admin.item_statistics = item_statistics
    model_admin.readonly_fields = [*model_admin.readonly_fields, "item_statistics"]
    model_admin.queryset_extensions = (
        *model_admin.queryset_extensions,
        item_versions_with_statistics,
    )
    model_admin.detail_sections = (
        *model_admin.detail_sections,
        ("Item statistics", "item_statistics"),
    )
