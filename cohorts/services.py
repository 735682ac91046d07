"""Writes for cohorts: creating them, enrolment, rosters, assignments, accommodations."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage, get_connection
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from cohorts.models import (
    Accommodation,
    Assignment,
    Cohort,
    Membership,
    MembershipSource,
    new_enrolment_code,
    normalise_code,
)
from common.errors import ApplicationError
from common.roles import Role
from exams.models import ExamForm
from tenancy.audit import history_bulk, with_actor
from tenancy.models import Program, ProgramStaff, StaffRole
from tenancy.scoping import holds_role

ROSTER_MAX_BYTES = 1_000_000
ROSTER_MAX_ROWS = 5000


class RosterError(ApplicationError):
    """A roster that was refused as a whole; `errors` name each bad line."""

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


# --- Cohorts ----------------------------------------------------------------------------
def _check_program_staff(program: Program, instructors: Iterable, managers: Iterable) -> None:
    """A cohort's instructors and managers are staff of its program."""
    held = set(ProgramStaff.objects.filter(program=program).values_list("user_id", "role"))
    errors = {}
    strangers = [u for u in instructors if (u.pk, StaffRole.INSTRUCTOR) not in held]
    if strangers:
        errors["instructors"] = "Choose instructors of the cohort's program."
    strangers = [u for u in managers if (u.pk, StaffRole.MANAGER) not in held]
    if strangers:
        errors["managers"] = "Choose program managers of the cohort's program."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def cohort_create(
    *,
    by,
    name: str,
    program: Program,
    start_date: dt.date | None = None,
    end_date: dt.date | None = None,
    instructors: Iterable = (),
    managers: Iterable = (),
) -> Cohort:
    """A new cohort of one of the creator's programs, managed by its creator (and any
    other managers of the program named)."""
    if not holds_role(by, program.pk, StaffRole.MANAGER):
        raise PermissionDenied("Only the program's managers create its cohorts.")
    instructors, managers = list(instructors), list(managers)
    _check_program_staff(program, instructors, managers)
    cohort = Cohort(name=name, program=program, start_date=start_date, end_date=end_date)
    cohort.full_clean(exclude=["enrolment_code"])
    with_actor(cohort, by, "Created")
    cohort.save()
    cohort.managers.add(by, *managers)
    cohort.instructors.add(*instructors)
    return cohort


@transaction.atomic
def cohort_update(*, cohort: Cohort, by, instructors=None, managers=None, **fields) -> Cohort:
    # A cohort stays in its program: moving it would carry its people and results along.
    fields.pop("program", None)
    _check_program_staff(cohort.program, list(instructors or ()), list(managers or ()))
    for name, value in fields.items():
        setattr(cohort, name, value)
    cohort.full_clean(exclude=["enrolment_code"])
    with_actor(cohort, by)
    cohort.save()
    if instructors is not None:
        cohort.instructors.set(instructors)
    if managers is not None:
        # A manager cannot lock themselves out by leaving themselves off the list.
        cohort.managers.set({*managers, by})
    return cohort


def cohort_enrolment_set_open(*, cohort: Cohort, is_open: bool) -> Cohort:
    cohort.enrolment_open = is_open
    cohort.save(update_fields=["enrolment_open"])
    return cohort


def cohort_enrolment_code_regenerate(*, cohort: Cohort) -> Cohort:
    """A new code; the old one stops working at once."""
    for _ in range(10):
        cohort.enrolment_code = new_enrolment_code()
        try:
            with transaction.atomic():
                cohort.save(update_fields=["enrolment_code"])
        except IntegrityError:
            continue
        return cohort
    raise RuntimeError("could not find an unused enrolment code")


# --- Joining ----------------------------------------------------------------------------
def _is_staff_account(user, group_names: set[str]) -> bool:
    return (
        user.is_staff
        or user.is_superuser
        or Role.MANAGER.value in group_names
        or Role.INSTRUCTOR.value in group_names
    )


@transaction.atomic
def cohort_join(*, user, code: str, now: dt.datetime | None = None) -> tuple[Cohort, bool]:
    """The candidate joins the cohort whose open enrolment code they typed.

    Returns the cohort and whether they were new to it.
    """
    cohort = Cohort.objects.with_code(code).first() if normalise_code(code) else None
    if cohort is None:
        raise ValidationError(
            "That code does not match a cohort that is taking enrolments. Check it with "
            "your instructor or program manager."
        )
    names = set(user.groups.values_list("name", flat=True))
    if _is_staff_account(user, names):
        raise ValidationError(
            "Instructor and manager accounts cannot join a cohort as candidates; a manager "
            "can add you as an instructor instead."
        )
    if Role.CANDIDATE.value not in names:
        user.groups.add(Group.objects.get(name=Role.CANDIDATE.value))
    _, created = Membership.objects.get_or_create(
        cohort=cohort,
        user=user,
        defaults={"joined_at": now or timezone.now(), "source": MembershipSource.CODE},
    )
    return cohort, created


# --- Adding candidates: one at a time or from a roster --------------------------------
@dataclass(frozen=True)
class RosterRow:
    line: int
    name: str
    email: str


@dataclass
class RosterResult:
    created: list = field(default_factory=list)  # new accounts (each sent a password e-mail)
    linked: list = field(default_factory=list)  # existing accounts added to the cohort
    already: list = field(default_factory=list)  # already members

    def summary(self) -> str:
        # New and existing accounts are counted together: telling them apart would tell a
        # manager which addresses already have an account on the platform.
        added = len(self.created) + len(self.linked)
        text = f"{added} candidate(s) added; each was e-mailed how to sign in."
        if self.already:
            text += f" {len(self.already)} already in the cohort."
        return text


def roster_parse(text: str) -> tuple[list[RosterRow], list[str]]:
    """Rows and the errors of each bad line (1-based, as a spreadsheet numbers them)."""
    rows: list[RosterRow] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    reader = csv.reader(io.StringIO(text))
    try:
        records = list(enumerate(reader, start=1))
    except csv.Error as exc:
        return [], [f"Line {reader.line_num}: the file is not valid CSV ({exc})."]
    for line, cells in records:
        cells = [c.strip() for c in cells]
        while cells and not cells[-1]:
            cells.pop()
        if not cells:
            continue
        if line == 1 and [c.lower() for c in cells] in (["name", "email"], ["name", "e-mail"]):
            continue
        if len(cells) != 2:
            errors.append(f"Line {line}: expected 2 columns (name, email), found {len(cells)}.")
            continue
        name, email = cells
        if not name:
            errors.append(f"Line {line}: the name is missing.")
        try:
            validate_email(email)
        except ValidationError:
            errors.append(f"Line {line}: “{email}” is not a valid e-mail address.")
            continue
        key = email.lower()
        if key in seen:
            errors.append(f"Line {line}: {email} is already on line {seen[key]}.")
            continue
        seen[key] = line
        if name:
            rows.append(RosterRow(line, name, email))
    if len(rows) > ROSTER_MAX_ROWS:
        errors.append(f"The roster has {len(rows)} rows; upload at most {ROSTER_MAX_ROWS}.")
    return rows, errors


def roster_decode(data: bytes) -> str:
    if len(data) > ROSTER_MAX_BYTES:
        raise RosterError([f"The file is larger than {ROSTER_MAX_BYTES // 1000} kB."])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # Report the line of the first undecodable byte, like any other bad row.
        line = data[: exc.start].count(b"\n") + 1
        raise RosterError(
            [f"Line {line}: the file is not UTF-8 text (save it as “CSV UTF-8”)."]
        ) from None


def _split_name(name: str) -> tuple[str, str]:
    first, _, last = name.strip().partition(" ")
    return first[:150], last.strip()[:150]


def set_password_link(*, user, base_url: str) -> str:
    """The one-use link a new account follows to choose its password."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return base_url.rstrip("/") + reverse("cohorts:set_password", args=[uid, token])


def _password_email(*, user, cohort: Cohort, base_url: str) -> EmailMessage:
    link = set_password_link(user=user, base_url=base_url)
    body = (
        f"Hello {user.first_name or user.username},\n\n"
        f"You have been enrolled in {cohort.name} on the CCS Exam Simulator.\n"
        f"Your username is {user.username}. Choose your password here:\n\n{link}\n\n"
        "The link works once. If it has expired, use “Forgot password” on the sign-in "
        "page or ask your program manager.\n"
    )
    return EmailMessage(
        subject=f"Your CCS Exam Simulator account for {cohort.name}",
        body=body,
        to=[user.email],
    )


def _linked_email(*, user, cohort: Cohort, base_url: str, managers: str) -> EmailMessage:
    """Tells the owner of an existing account that a program now sees part of it: they
    did not ask to be added, so they learn what that means and whom to ask (`managers`,
    the cohort's managers' names)."""
    body = (
        f"Hello {user.first_name or user.username},\n\n"
        f"Your CCS Exam Simulator account ({user.username}) has been added to {cohort.name}"
        f"{f' ({cohort.program})' if cohort.program else ''}.\n\n"
        "Its program managers and instructors will see the mock exams you sit from now on, "
        "with their scores; earlier attempts stay private. Forms assigned to the cohort "
        f"appear under My exams: {base_url.rstrip('/')}{reverse('exams:home')}\n\n"
        f"If you did not expect this, contact the cohort's managers ({managers or 'none yet'}) "
        "and ask them to remove you.\n"
    )
    return EmailMessage(subject=f"You have been added to {cohort.name}", body=body, to=[user.email])


def _free_usernames(emails: list[str]) -> dict[str, str]:
    """A username per new account: the e-mail address, or a numbered variant if taken."""
    user_model = get_user_model()
    wanted = {e: e.lower()[:140] for e in emails}
    taken = set(
        user_model.objects.filter(username__in=list(wanted.values())).values_list(
            "username", flat=True
        )
    )
    chosen: dict[str, str] = {}
    for email, base in wanted.items():
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}-{n}"
        if n > 1:
            # A numbered name may clash too: one query per clash, which are rare.
            while user_model.objects.filter(username=name).exists() or name in taken:
                n += 1
                name = f"{base}-{n}"
        taken.add(name)
        chosen[email] = name
    return chosen


@transaction.atomic
def cohort_candidates_add(
    *,
    cohort: Cohort,
    rows: list[RosterRow],
    base_url: str,
    source: str = MembershipSource.ROSTER,
    now: dt.datetime | None = None,
    by=None,
) -> RosterResult:
    """Link existing accounts (matched by e-mail, any case) and create the others.

    Refuses the whole list, naming each line, when an address belongs to several
    accounts or to an instructor's or manager's. New accounts get the Candidate role, no
    usable password, and an e-mail with a one-time link to set one; linked accounts an
    e-mail saying what joining means (both sent on commit).
    """
    user_model = get_user_model()
    now = now or timezone.now()
    emails = {r.email.lower() for r in rows}
    existing: dict[str, list] = {}
    for user in (
        user_model.objects.annotate(email_lower=Lower("email"))
        .filter(email_lower__in=emails)
        .prefetch_related("groups")
    ):
        existing.setdefault(user.email_lower, []).append(user)
    errors = []
    for row in rows:
        matches = existing.get(row.email.lower(), [])
        # One message for every address that cannot be enrolled by e-mail, whatever the
        # reason (several accounts, a staff account): it must not say which accounts exist.
        if len(matches) > 1 or (
            matches and _is_staff_account(matches[0], {g.name for g in matches[0].groups.all()})
        ):
            errors.append(
                f"Line {row.line}: {row.email} cannot be enrolled by e-mail; ask the candidate "
                "to join with the cohort's enrolment code, or ask the platform operator."
            )
    if errors:
        raise RosterError(errors)

    members = set(Membership.objects.filter(cohort=cohort).values_list("user_id", flat=True))
    result = RosterResult()
    to_link = []
    new_rows = []
    for row in rows:
        matches = existing.get(row.email.lower())
        if matches:
            user = matches[0]
            (result.already if user.pk in members else result.linked).append(user)
            if user.pk not in members:
                to_link.append(user)
        else:
            new_rows.append(row)

    usernames = _free_usernames([r.email for r in new_rows])
    new_users = []
    for row in new_rows:
        first, last = _split_name(row.name)
        new_users.append(
            user_model(
                username=usernames[row.email],
                email=row.email,
                first_name=first,
                last_name=last,
                password=make_password(None),  # unusable until they follow the link
                is_active=True,
            )
        )
    created = user_model.objects.bulk_create(new_users)
    if created and created[0].pk is None:  # backends that do not return ids
        created = list(user_model.objects.filter(username__in=[u.username for u in new_users]))
    result.created = created

    candidate_group = Group.objects.get(name=Role.CANDIDATE.value)
    group_links = user_model.groups.through
    needs_role = created + [
        u for u in to_link if Role.CANDIDATE.value not in {g.name for g in u.groups.all()}
    ]
    group_links.objects.bulk_create(
        [group_links(user_id=u.pk, group_id=candidate_group.pk) for u in needs_role],
        ignore_conflicts=True,
    )
    Membership.objects.bulk_create(
        [
            Membership(cohort=cohort, user=u, joined_at=now, source=source)
            for u in created + to_link
        ],
        ignore_conflicts=True,
    )
    # A bulk insert sends no signals: the audit records are written here.
    history_bulk(
        Membership,
        Membership.objects.filter(
            cohort=cohort, user_id__in=[u.pk for u in created + to_link], joined_at=now
        ),
        by=by,
        reason=f"Added ({source})",
    )
    messages = [_password_email(user=u, cohort=cohort, base_url=base_url) for u in created]
    if to_link:
        managers = ", ".join(
            m.get_full_name() or m.username for m in cohort.managers.order_by("last_name", "pk")
        )
        messages += [
            _linked_email(user=u, cohort=cohort, base_url=base_url, managers=managers)
            for u in to_link
        ]
    if messages:
        transaction.on_commit(lambda: get_connection().send_messages(messages))
    return result


def roster_import(*, cohort: Cohort, data: bytes, base_url: str, by=None) -> RosterResult:
    """A CSV roster (name, email): all rows or nothing."""
    rows, errors = roster_parse(roster_decode(data))
    if errors:
        raise RosterError(errors)
    if not rows:
        raise RosterError(["The roster has no rows: one line per candidate, “name,email”."])
    return cohort_candidates_add(cohort=cohort, rows=rows, base_url=base_url, by=by)


def cohort_candidate_add(
    *, cohort: Cohort, name: str, email: str, base_url: str, by=None
) -> RosterResult:
    """One candidate, by name and e-mail: linked if the address has an account."""
    try:
        return cohort_candidates_add(
            cohort=cohort,
            rows=[RosterRow(1, name.strip(), email.strip())],
            base_url=base_url,
            source=MembershipSource.ADDED,
            by=by,
        )
    except RosterError as exc:
        raise ValidationError([e.removeprefix("Line 1: ") for e in exc.errors]) from None


def member_remove(*, cohort: Cohort, user_id: int) -> str:
    """Take a candidate out of the cohort; returns their name.

    Their account and attempts stay: they stop counting in this cohort's figures and stop
    seeing its assigned forms (an attempt already under way can still be finished).
    """
    membership = Membership.objects.filter(cohort=cohort, user_id=user_id).select_related("user")
    membership = membership.first()
    if membership is None:
        raise ValidationError("This candidate is not a member of the cohort.")
    user = membership.user
    membership.delete()
    return user.get_full_name() or user.username


def _awaiting_password(user) -> bool:
    return not user.has_usable_password() and user.last_login is None


def member_invitation_resend(*, cohort: Cohort, user_id: int, base_url: str) -> str:
    """E-mail a new set-password link to a member who has never chosen a password.

    Returns the address written to. Refused for accounts already in use: their owners
    reset a forgotten password themselves from the sign-in page.
    """
    membership = Membership.objects.filter(cohort=cohort, user_id=user_id).select_related("user")
    membership = membership.first()
    if membership is None:
        raise ValidationError("This candidate is not a member of the cohort.")
    user = membership.user
    if not _awaiting_password(user):
        raise ValidationError(
            f"{user.username} has already set a password; they can use “Forgot password” "
            "on the sign-in page."
        )
    if not user.email:
        raise ValidationError(f"{user.username} has no e-mail address to write to.")
    _password_email(user=user, cohort=cohort, base_url=base_url).send()
    return user.email


# --- Assignments ----------------------------------------------------------------------
def _assignment_check_form(form: ExamForm, cohort: Cohort) -> None:
    if not (form.kind == "exam" and form.is_published):
        raise ValidationError({"form": "Only published exam forms can be assigned."})
    # Shared forms and the program's own; another program's forms do not exist here.
    if not ExamForm.objects.shared_or_of(cohort.program_id).filter(pk=form.pk).exists():
        raise ValidationError({"form": "Only published exam forms can be assigned."})


@transaction.atomic
def assignment_create(
    *,
    cohort: Cohort,
    form: ExamForm,
    opens_at: dt.datetime,
    closes_at: dt.datetime | None,
    max_attempts: int | None,
    review_policy: str,
    by=None,
) -> Assignment:
    _assignment_check_form(form, cohort)
    if Assignment.objects.filter(cohort=cohort, form=form).exists():
        raise ValidationError({"form": f"{form} is already assigned to this cohort."})
    assignment = Assignment(
        cohort=cohort,
        form=form,
        opens_at=opens_at,
        closes_at=closes_at,
        max_attempts=max_attempts,
        review_policy=review_policy,
        created_by=by,
    )
    assignment.full_clean()
    with_actor(assignment, by)
    assignment.save()
    return assignment


@transaction.atomic
def assignment_update(*, assignment: Assignment, by=None, **fields) -> Assignment:
    for name, value in fields.items():
        setattr(assignment, name, value)
    assignment.full_clean(exclude=["cohort", "form"])
    with_actor(assignment, by)
    assignment.save()
    return assignment


def assignment_delete(*, assignment: Assignment) -> None:
    """Stop offering the form; attempts already made stay in the figures."""
    assignment.delete()


# --- Accommodations ---------------------------------------------------------------------
@transaction.atomic
def accommodation_set(
    *, cohort: Cohort, candidate_id: int, multiplier: Decimal, note: str = "", by
) -> Accommodation:
    """Set the extra time the cohort's program grants a member, for attempts started from
    now on under that program's assignments. Other programs' accommodations of the same
    person are neither read nor touched."""
    if not Cohort.objects.visible_to(by).filter(pk=cohort.pk).exists():
        raise PermissionDenied("Only the cohort's managers and instructors set accommodations.")
    if not Membership.objects.filter(cohort=cohort, user_id=candidate_id).exists():
        raise ValidationError("That candidate is not in this cohort.")
    accommodation = (
        Accommodation.objects.select_for_update()
        .filter(program_id=cohort.program_id, user_id=candidate_id)
        .first()
    ) or Accommodation(program_id=cohort.program_id, user_id=candidate_id)
    accommodation.time_multiplier = multiplier
    accommodation.note = note
    accommodation.set_by = by
    accommodation.full_clean(exclude=["program", "user", "set_by"])
    with_actor(accommodation, by)
    accommodation.save()
    return accommodation


# Kept for callers of the earlier name; the accommodation now belongs to the program.
candidate_time_multiplier_set = accommodation_set
