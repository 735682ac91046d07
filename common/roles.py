"""The three roles, as Django groups with permissions.

The permissions each role holds are declared here once; a data migration creates the
groups, and `sync_roles` (run after every migrate) attaches permissions of models added
later. They are the coarse layer (what kind of page a person may open at all); in which
program they may use them is said by their program roles (tenancy.ProgramStaff).
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    CANDIDATE = "Candidate"
    INSTRUCTOR = "Instructor"
    MANAGER = "Program manager"


# (app_label, codename or "*" for every permission of the app).
ROLE_PERMISSIONS: dict[Role, list[tuple[str, str]]] = {
    Role.CANDIDATE: [],
    Role.INSTRUCTOR: [
        ("questionbank", "*"),
        ("exams", "*"),
        ("scoring", "*"),
        ("itemanalysis", "*"),
        ("codebook", "view_*"),
        ("cohorts", "view_*"),
        ("cohorts", "change_membership"),
        # Accommodations of their programs' candidates (scoped per program in cohorts).
        ("cohorts", "add_accommodation"),
        ("cohorts", "change_accommodation"),
        ("tenancy", "view_program"),
    ],
    Role.MANAGER: [
        ("cohorts", "*"),
        ("exams", "view_*"),
        ("tenancy", "view_*"),
        ("scoring", "view_*"),
        # The second person of a cut change (scoring.cut_proposals): managers may confirm.
        ("scoring", "change_scaleconversion"),
        ("itemanalysis", "view_*"),
    ],
}


def sync_roles(apps=None) -> None:
    """Create the role groups and give each the permissions ROLE_PERMISSIONS lists."""
    if apps is None:
        from django.apps import apps as global_apps

        apps = global_apps
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for role, grants in ROLE_PERMISSIONS.items():
        group, _ = group_model.objects.get_or_create(name=role.value)
        wanted = []
        for app_label, codename in grants:
            perms = permission_model.objects.filter(content_type__app_label=app_label)
            if codename.endswith("*"):
                perms = perms.filter(codename__startswith=codename[:-1])
            else:
                perms = perms.filter(codename=codename)
            wanted.extend(perms)
        group.permissions.add(*wanted)


def sync_roles_after_migrate(sender, apps=None, **kwargs) -> None:
    from django.apps import apps as global_apps

    # post_migrate is sent once per app with models, each after that app's permissions
    # are created; the last app's signal is the one time they all exist.
    with_models = [c for c in global_apps.get_app_configs() if c.models_module is not None]
    if sender is not with_models[-1]:
        return
    if apps is not None:
        try:
            apps.get_model("auth", "Group")
        except LookupError:
            return
    sync_roles(apps)


def user_role(user) -> Role | None:
    """The role a signed-in user works in; staff superusers count as instructors."""
    if not user.is_authenticated:
        return None
    names = {g.name for g in user.groups.all()}
    if Role.MANAGER.value in names:
        return Role.MANAGER
    if Role.INSTRUCTOR.value in names or user.is_superuser:
        return Role.INSTRUCTOR
    if Role.CANDIDATE.value in names:
        return Role.CANDIDATE
    return None


def has_role(user, *roles: Role) -> bool:
    return user.is_authenticated and user.groups.filter(name__in=[r.value for r in roles]).exists()
