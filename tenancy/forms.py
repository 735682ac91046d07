"""The program a new item, case, form or cohort belongs to, as a form field.

Staff who hold roles in several programs choose; the field offers only their programs and
says so when left empty. Staff of one program never see the choice (a hidden field set to
their program, still checked against it). The platform operator may choose any program or
none (shared content), where the caller allows shared content.
"""

from __future__ import annotations

from collections.abc import Iterable

from django import forms

from tenancy.models import Program
from tenancy.scoping import program_ids


def program_choice(
    field: forms.ModelChoiceField,
    user,
    *,
    what: str = "it",
    roles: Iterable[str] | None = None,
    shared_label: str | None = None,
) -> forms.ModelChoiceField:
    """Set up `field` for `user`: the programs they hold one of `roles` in (any role if
    None). `shared_label`: what the operator's empty choice means (None: no empty choice)."""
    ids = program_ids(user, roles=roles)
    if ids is None:  # the operator
        field.queryset = Program.objects.all()
        field.required = shared_label is None
        field.empty_label = shared_label if shared_label is not None else "Choose a program…"
        return field
    field.queryset = Program.objects.filter(pk__in=sorted(ids))
    field.required = True
    field.error_messages = {
        **field.error_messages,
        "required": (
            f"Choose the program {what} belongs to."
            if ids
            else "You hold no role in a program that could own this; ask a program manager."
        ),
    }
    if len(ids) == 1:
        (only,) = ids
        field.initial = only
        field.widget = forms.HiddenInput()
        field.show_hidden_initial = False
        # Nothing to choose: a post without the field (a script, an old page) means their
        # program; any other value is still checked against it.
        clean = field.clean
        field.clean = lambda value: clean(only if value in field.empty_values else value)
    else:
        field.initial = None
        field.empty_label = "Choose a program…"
    return field


def chooses_program(user, *, roles: Iterable[str] | None = None) -> bool:
    """Does `user` see a program choice (several programs, or the operator)?"""
    ids = program_ids(user, roles=roles)
    return ids is None or len(ids) > 1
