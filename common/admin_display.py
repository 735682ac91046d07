"""Display helpers shared by the apps' admin pages."""

from __future__ import annotations

from django.contrib import admin


def person_name(user) -> str | None:
    """'Full Name (username)', or the username alone; None (shown as '-') for nobody."""
    if user is None:
        return None
    full_name = user.get_full_name()
    return f"{full_name} ({user.get_username()})" if full_name else user.get_username()


def person_field(field: str):
    """A ModelAdmin display method showing the user in the foreign key `field` as text.

    Django shows a read-only foreign key as a link to the related object's admin page
    without asking whether the viewer may open it. Instructors hold no auth permission
    (common.roles), so a candidate's or an author's name would link to a 403: list this
    method in `fields` and `readonly_fields` in place of the foreign key.
    """

    @admin.display(description=field.replace("_", " "), ordering=field)
    def display(self, obj):
        return person_name(getattr(obj, field))

    display.__name__ = f"{field}_name"
    return display
