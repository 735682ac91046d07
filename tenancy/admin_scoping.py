"""The admin's half of program scoping, shared by every app's ModelAdmin.

`ProgramScopedAdmin` filters the changelist, change, delete and history pages, the
autocomplete and the filters built on them through `get_queryset`; answers 404 (not
Django's "perhaps it was deleted" redirect) for an object outside the queryset, so that
another program's ids cannot even be probed; lets staff change only rows of their
programs (shared content is the operator's); and narrows foreign-key choices to what the
user may see.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import Http404

from tenancy.models import Program
from tenancy.scoping import may_change, program_q


def _path_value(obj, path: str):
    """Follow `a__b__program` on an object to the program's id (None when absent)."""
    *hops, last = path.split("__")
    for hop in hops:
        obj = getattr(obj, hop, None)
        if obj is None:
            return None
    return getattr(obj, f"{last}_id", None) if last != "pk" else obj.pk


class ProgramScopedAdmin(admin.ModelAdmin):
    # The path from this model to its program (e.g. "cohort__program"); None for a model
    # that belongs to no program and scopes itself in get_queryset.
    program_path: str | None = "program"
    # Rows without a program are shared content every program's staff may read.
    shared_when_null: bool = False

    def scope(self, request, queryset):
        if self.program_path is None:
            return queryset
        return queryset.filter(
            program_q(request.user, self.program_path, shared=self.shared_when_null)
        )

    def get_queryset(self, request):
        return self.scope(request, super().get_queryset(request))

    def program_of(self, obj) -> int | None:
        return None if self.program_path is None else _path_value(obj, self.program_path)

    def may_change_object(self, request, obj) -> bool:
        return obj is None or may_change(request.user, self.program_of(obj))

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self.may_change_object(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self.may_change_object(request, obj)

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        raise Http404("No such object.")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None and "queryset" not in kwargs:
            field.queryset = scoped_choices(field.queryset, request.user)
        return field


def scoped_choices(queryset, user):
    """A foreign key's choices narrowed to what `user` may see: programs they may change
    rows of, and any model with a `visible_to` QuerySet method through it."""
    model = queryset.model
    if model is Program:
        return queryset.filter(program_q(user, "pk"))
    visible = getattr(queryset, "visible_to", None)
    return visible(user) if callable(visible) else queryset
