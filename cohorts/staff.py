"""A program's staff roles, changed by its managers (or the platform operator).

`tenancy.ProgramStaff` says in which programs a person holds a role; the Django groups
(`common.roles`) stay the coarse layer, so granting a role also puts the person in the
role's group (and gives an instructor the admin), and removing their last role of a kind
takes them out of it again. Adding is by e-mail and answers alike whether or not the
address had an account: a new account gets a link to choose a password, an existing one a
note of the new role. A program always keeps at least one manager. Every change is a
historical record of `ProgramStaff` (the audit trail).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import transaction
from django.db.models.functions import Lower
from django.urls import reverse

from cohorts.models import Cohort
from cohorts.services import _free_usernames, _split_name, set_password_link
from common.lifecycle import log_event
from common.roles import Role
from tenancy.audit import with_actor
from tenancy.models import Program, ProgramStaff, StaffRole
from tenancy.scoping import MANAGER, forget_roles, holds_role

ROLE_GROUP = {StaffRole.INSTRUCTOR: Role.INSTRUCTOR, StaffRole.MANAGER: Role.MANAGER}
# Several accounts sharing one address cannot be told apart, so none is given the role: the
# one refusal, worded to say nothing about the accounts.
CANNOT_ADD = "{email} cannot be given a role by e-mail here; ask the platform operator."


def may_manage_staff(user, program: Program) -> bool:
    """The program's managers and the platform operator."""
    return bool(user and user.is_authenticated and holds_role(user, program.pk, MANAGER))


def _check(user, program: Program) -> None:
    if not may_manage_staff(user, program):
        raise PermissionDenied("Only the program's managers change its staff.")


@dataclass
class StaffAddResult:
    email: str
    role: str
    program: Program

    def summary(self) -> str:
        # The same words whether the account was new, existing, or already held the role.
        return (
            f"{self.email} holds the role of {self.role.lower()} in {self.program} from now "
            "on. An e-mail tells them so (with a link to choose a password if they have "
            "none yet)."
        )


def _welcome_email(*, user, program: Program, role_label: str, base_url: str) -> EmailMessage:
    link = set_password_link(user=user, base_url=base_url)
    body = (
        f"Hello {user.first_name or user.username},\n\n"
        f"You have been made {role_label.lower()} of {program} on the CCS Exam Simulator.\n"
        f"Your username is {user.username}. Choose your password here:\n\n{link}\n\n"
        "The link works once. If it has expired, use “Forgot password” on the sign-in page.\n"
    )
    return EmailMessage(
        subject=f"Your CCS Exam Simulator account for {program}", body=body, to=[user.email]
    )


def _role_email(*, user, program: Program, role_label: str, base_url: str) -> EmailMessage:
    body = (
        f"Hello {user.first_name or user.username},\n\n"
        f"Your CCS Exam Simulator account ({user.username}) now holds the role of "
        f"{role_label.lower()} in {program}: {base_url.rstrip('/')}{reverse('cohorts:dashboard')}"
        "\n\nIf you did not expect this, contact the program's managers.\n"
    )
    return EmailMessage(subject=f"Your role in {program}", body=body, to=[user.email])


@transaction.atomic
def program_staff_add(
    *, program: Program, email: str, role: str, by, base_url: str, name: str = ""
) -> StaffAddResult:
    """Give the person with this e-mail address `role` in the program (a new account if
    there is none), and tell them by e-mail."""
    _check(by, program)
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": "Enter an e-mail address."}) from None
    if role not in StaffRole.values:
        raise ValidationError({"role": "Choose instructor or program manager."})
    role_label = StaffRole(role).label
    user_model = get_user_model()
    matches = list(
        user_model.objects.annotate(email_lower=Lower("email")).filter(email_lower=email.lower())
    )
    if len(matches) > 1:
        raise ValidationError({"email": CANNOT_ADD.format(email=email)})
    if matches:
        user, created = matches[0], False
    else:
        first, last = _split_name(name.strip() or email.split("@")[0])
        user = user_model.objects.create(
            username=_free_usernames([email])[email],
            email=email,
            first_name=first,
            last_name=last,
            password=make_password(None),  # unusable until they follow the link
        )
        created = True
    row = ProgramStaff.objects.filter(program=program, user=user, role=role).first()
    if row is None:
        row = with_actor(ProgramStaff(program=program, user=user, role=role), by, "Role granted")
        row.save()
        log_event("program.staff_added", program_id=program.pk, user_id=user.pk, role=role)
    user.groups.add(Group.objects.get(name=ROLE_GROUP[role].value))
    if role == StaffRole.INSTRUCTOR and not user.is_staff:
        user.is_staff = True  # instructors author and review in the admin
        user.save(update_fields=["is_staff"])
    forget_roles(user)
    make = _welcome_email if created else _role_email
    message = make(user=user, program=program, role_label=role_label, base_url=base_url)
    transaction.on_commit(lambda: message.send(fail_silently=True))
    return StaffAddResult(email=email, role=role_label, program=program)


@transaction.atomic
def program_staff_remove(*, program: Program, role_id: int, by) -> ProgramStaff:
    """Take a role away. Refused for the program's last manager. A person who no longer
    holds the role in the program leaves its cohorts' lists of that role, and the role's
    group when they hold it in no program any more."""
    _check(by, program)
    # Locks the program's managers, so two managers removing each other at once cannot
    # leave the program with none.
    managers = list(
        ProgramStaff.objects.select_for_update().filter(program=program, role=StaffRole.MANAGER)
    )
    row = (
        ProgramStaff.objects.select_for_update()
        .select_related("user")
        .filter(program=program, pk=role_id)
        .first()
    )
    if row is None:
        raise ValidationError("This person does not hold that role in the program.")
    if row.role == StaffRole.MANAGER and len(managers) <= 1:
        raise ValidationError(
            "A program keeps at least one manager: add another manager before removing this one."
        )
    user = row.user
    with_actor(row, by, "Role removed")
    row.delete()
    field = "managers" if row.role == StaffRole.MANAGER else "instructors"
    for cohort in Cohort.objects.filter(program=program, **{field: user}):
        cohort._history_user = by
        getattr(cohort, field).remove(user)
    if not ProgramStaff.objects.filter(user=user, role=row.role).exists():
        user.groups.remove(Group.objects.get(name=ROLE_GROUP[row.role].value))
        if row.role == StaffRole.INSTRUCTOR and not user.is_superuser and user.is_staff:
            user.is_staff = False
            user.save(update_fields=["is_staff"])
    forget_roles(user)
    log_event("program.staff_removed", program_id=program.pk, user_id=user.pk, role=row.role)
    return row
