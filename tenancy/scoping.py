"""Who sees which program's rows: the one place the rule is written.

Every staff query is scoped below the views with these helpers (QuerySet methods named
`visible_to(user)` call them, and the admin's get_queryset uses those): a staff member
sees the rows of programs they hold a role in; shared content (no program) where the
model allows it; the platform operator (a superuser) sees everything.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q

from tenancy.models import ProgramStaff, StaffRole

_CACHE_ATTR = "_tenancy_roles"


def _roles(user) -> dict[int, set[str]]:
    """{program id: roles} of the user, read once per user object (one request)."""
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        cached = {}
        for program_id, role in ProgramStaff.objects.filter(user_id=user.pk).values_list(
            "program_id", "role"
        ):
            cached.setdefault(program_id, set()).add(role)
        setattr(user, _CACHE_ATTR, cached)
    return cached


def forget_roles(user) -> None:
    """Drop the roles read for `user` (after they change within one request or test)."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def is_operator(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_superuser)


def program_ids(user, *, roles: Iterable[str] | None = None) -> set[int] | None:
    """The programs the user holds one of `roles` in (any role if None); None = all
    (the operator); an empty set for anonymous users and candidates."""
    if user is None or not user.is_authenticated:
        return set()
    if user.is_superuser:
        return None
    wanted = set(roles) if roles is not None else None
    return {pid for pid, held in _roles(user).items() if wanted is None or held & wanted}


def program_q(user, field: str, *, shared: bool = False, roles: Iterable[str] | None = None) -> Q:
    """A filter on `field` (a program foreign key or id path): the user's programs, plus
    rows with no program if `shared`. Everything for the operator."""
    ids = program_ids(user, roles=roles)
    if ids is None:
        return Q()
    q = Q(**{f"{field}__in": sorted(ids)})
    if shared:
        q |= Q(**{f"{field}__isnull": True})
    return q


def may_read(user, program_id: int | None, *, shared: bool = False) -> bool:
    ids = program_ids(user)
    if ids is None:
        return True
    if program_id is None:
        return shared
    return program_id in ids


def may_change(user, program_id: int | None, *, roles: Iterable[str] | None = None) -> bool:
    """May the user change a row of this program? Shared content (None) is the
    operator's alone."""
    ids = program_ids(user, roles=roles)
    if ids is None:
        return True
    return program_id is not None and program_id in ids


def holds_role(user, program_id: int, role: str) -> bool:
    if is_operator(user):
        return True
    if user is None or not user.is_authenticated:
        return False
    return role in _roles(user).get(program_id, set())


def default_program_id(user, *, roles: Iterable[str] | None = None) -> int | None:
    """The program new content of the user belongs to when they hold a role in exactly one
    (or the lowest-numbered one); None for the operator, whose content is shared."""
    ids = program_ids(user, roles=roles)
    if ids is None or not ids:
        return None
    return min(ids)


# Passed as a program by callers that want "the author's program" (the default for new
# content), as opposed to None, which means shared content.
AUTHORS_PROGRAM = object()


def owner_for(program_id, user) -> int | None:
    """Resolve AUTHORS_PROGRAM to the user's default program; anything else as given."""
    if program_id is AUTHORS_PROGRAM:
        return default_program_id(user) if user is not None else None
    return program_id


MANAGER = StaffRole.MANAGER
INSTRUCTOR = StaffRole.INSTRUCTOR
