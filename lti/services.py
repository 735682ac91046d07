"""Writes for LTI: registrations, what a launch creates, grades owed and posted, rosters."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from cohorts.models import Assignment, Cohort, Membership, MembershipSource
from common.errors import ApplicationError
from common.lifecycle import log_event
from common.roles import Role
from exams.models import AttemptMode, ExamForm
from lti.models import (
    Context,
    GradePost,
    GradePostStatus,
    Registration,
    ResourceLink,
    UsedNonce,
    origin_of,
)
from lti.models import LtiUser as LtiUserRow
from lti.platform_client import lineitem_find_or_create, members_fetch, score_post
from tenancy.models import Program, ProgramStaff, StaffRole

logger = logging.getLogger(__name__)

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"


class LaunchRefused(ApplicationError):
    """A launch the tool will not accept; the message says why."""

    status_code = 403


# --- Registrations --------------------------------------------------------------------
@transaction.atomic
def registration_save(
    *,
    program_slug: str,
    issuer: str,
    client_id: str,
    deployment_id: str,
    auth_url: str,
    token_url: str,
    jwks_url: str,
    name: str = "",
    frame_origins: list[str] | None = None,
) -> Registration:
    """Register a platform, or update it and add a deployment id (the command reruns).

    `frame_origins` (when given) replaces the origins allowed to frame the tool besides
    the issuer's; each must be an http(s) origin.
    """
    program = Program.objects.filter(slug=program_slug).first()
    if program is None:
        raise ApplicationError(f"There is no program with the slug {program_slug!r}.")
    registration, _ = Registration.objects.select_for_update().get_or_create(
        issuer=issuer,
        client_id=client_id,
        defaults={"program": program},
    )
    registration.program = program
    registration.name = name or registration.name
    registration.auth_login_url = auth_url
    registration.access_token_url = token_url
    registration.keyset_url = jwks_url
    if deployment_id not in registration.deployment_ids:
        registration.deployment_ids = [*registration.deployment_ids, deployment_id]
    if frame_origins is not None:
        registration.frame_origins = frame_origins_clean(frame_origins)
    registration.full_clean()
    registration.save()
    return registration


def frame_origins_clean(values: list[str]) -> list[str]:
    """The origins as the CSP header will carry them; a value that is not one is refused."""
    cleaned = []
    for value in values:
        origin = origin_of(value)
        if not origin:
            raise ApplicationError(
                f"{value!r} is not a web origin: give scheme and host, e.g. "
                "https://school.instructure.com"
            )
        cleaned.append(origin)
    return list(dict.fromkeys(cleaned))


# --- Roles ----------------------------------------------------------------------------
def role_from_claims(roles: list[str]) -> Role | None:
    """LIS roles → the tool's role; the strongest wins."""
    names = {r.rsplit("#", 1)[-1] for r in roles or []}
    if "Administrator" in names:
        return Role.MANAGER
    if names & {"Instructor", "ContentDeveloper"}:
        return Role.INSTRUCTOR
    if "Learner" in names:
        return Role.CANDIDATE
    return None


# --- Launch ---------------------------------------------------------------------------
@dataclass(frozen=True)
class LaunchOutcome:
    user: object
    role: Role
    link: ResourceLink | None
    context: Context | None


# Clocks differ between the LMS and the tool: an id_token may say it was issued this much
# in the future, and a nonce is kept this much longer than the oldest token accepted.
CLOCK_SKEW = dt.timedelta(seconds=60)


def token_max_age() -> dt.timedelta:
    return dt.timedelta(seconds=settings.CCS_LTI_ID_TOKEN_MAX_AGE)


def token_age_check(*, claims: dict, now: dt.datetime | None = None) -> None:
    """Refuse an id_token issued too long ago (or in the future).

    Used nonces are forgotten after the same lifetime (`used_nonces_forget`); without this
    check a token with a far-off `exp` could be replayed once its nonce was forgotten.
    """
    now = now or timezone.now()
    iat = claims.get("iat")
    if not isinstance(iat, int | float) or isinstance(iat, bool):
        raise LaunchRefused("The launch token does not say when it was issued (no iat claim).")
    issued = dt.datetime.fromtimestamp(iat, tz=dt.UTC)
    if issued > now + CLOCK_SKEW:
        raise LaunchRefused("The launch token was issued in the future: check the LMS clock.")
    if issued < now - token_max_age():
        raise LaunchRefused(
            "The launch token was issued too long ago. Open the activity again from your course."
        )


def used_nonces_forget(*, now: dt.datetime | None = None) -> int:
    """Delete nonces older than any token a launch still accepts; returns how many."""
    now = now or timezone.now()
    deleted, _ = UsedNonce.objects.expired(now, token_max_age() + CLOCK_SKEW).delete()
    if deleted:
        log_event("lti.nonces_forgotten", count=deleted)
    return deleted


def nonce_use(*, registration: Registration, nonce: str) -> None:
    """Refuse an id_token whose nonce was already accepted (a replayed launch)."""
    try:
        with transaction.atomic():
            UsedNonce.objects.create(registration=registration, nonce=nonce)
    except IntegrityError:
        raise LaunchRefused(
            "This launch was already used. Open the activity again from your course."
        ) from None


def _username(registration: Registration, sub: str) -> str:
    digest = hashlib.sha256(f"{registration.pk}:{sub}".encode()).hexdigest()[:20]
    return f"lti-{digest}"


def lti_user_link(*, registration: Registration, sub: str, claims: dict, role: Role):
    """The account of a platform's user, created on first sight with no password (they
    only ever arrive through a launch), its names and e-mail kept from the platform."""
    row = LtiUserRow.objects.filter(registration=registration, sub=sub).select_related("user")
    row = row.first()
    if row is None:
        user_model = get_user_model()
        username = _username(registration, sub)
        user = user_model.objects.filter(username=username).first()
        if user is None:
            user = user_model(username=username)
            user.set_unusable_password()
            user.save()
        row, _ = LtiUserRow.objects.get_or_create(
            registration=registration, sub=sub, defaults={"user": user}
        )
    user = row.user
    fields = {
        "first_name": (claims.get("given_name") or "")[:150],
        "last_name": (claims.get("family_name") or "")[:150],
        "email": (claims.get("email") or "")[:254],
    }
    changed = [f for f, v in fields.items() if v and getattr(user, f) != v]
    for field in changed:
        setattr(user, field, fields[field])
    if changed:
        user.save(update_fields=changed)
    user.groups.add(Group.objects.get(name=role.value))
    return row


def context_for(*, registration: Registration, claims: dict, deployment_id: str) -> Context | None:
    context_claim = claims.get(CLAIM + "context") or {}
    context_id = context_claim.get("id")
    if not context_id:
        return None
    title = context_claim.get("title") or context_claim.get("label") or context_id
    context = Context.objects.filter(registration=registration, context_id=context_id).first()
    if context is None:
        # One cohort per course, named after it, in the registration's program.
        cohort = Cohort.objects.create(name=title[:120], program=registration.program)
        context, created = Context.objects.get_or_create(
            registration=registration,
            context_id=context_id,
            defaults={"cohort": cohort, "title": title[:255]},
        )
        if not created:
            cohort.delete()
    nrps = claims.get(NRPS_CLAIM) or {}
    context.memberships_url = nrps.get("context_memberships_url", context.memberships_url)
    context.deployment_id = deployment_id
    context.save(update_fields=["memberships_url", "deployment_id"])
    return context


def _custom_form(custom: dict) -> tuple[ExamForm | None, str | None]:
    form_id = str(custom.get("form_id") or "")
    if not form_id.isdigit():
        return None, None
    form = ExamForm.objects.exams().published().offerable().filter(pk=int(form_id)).first()
    return form, custom.get("review_policy") or None


def link_for(*, context: Context, claims: dict) -> ResourceLink | None:
    link_claim = claims.get(CLAIM + "resource_link") or {}
    link_id = link_claim.get("id")
    if not link_id:
        return None
    link, _ = ResourceLink.objects.get_or_create(context=context, resource_link_id=link_id)
    link.title = (link_claim.get("title") or link.title)[:255]
    link.ags_endpoint = claims.get(AGS_CLAIM) or {}
    if link.form_id is None:
        # A link made by deep linking carries its form in the custom parameters.
        form, policy = _custom_form(claims.get(CLAIM + "custom") or {})
        if form is not None:
            link.form = form
            link.review_policy = policy or link.review_policy
    link.save()
    if link.form_id:
        assignment_ensure(link=link)
    return link


def assignment_ensure(*, link: ResourceLink) -> Assignment:
    """The link's form is assigned to the course's cohort, with the link's review policy."""
    assignment, _ = Assignment.objects.get_or_create(
        cohort=link.context.cohort,
        form=link.form,
        defaults={"review_policy": link.review_policy, "max_attempts": None},
    )
    if assignment.review_policy != link.review_policy:
        assignment.review_policy = link.review_policy
        assignment.full_clean(exclude=["cohort", "form"])
        assignment.save(update_fields=["review_policy"])
    return assignment


@transaction.atomic
def launch_accept(*, registration: Registration, claims: dict) -> LaunchOutcome:
    """Everything a validated launch leaves behind: the account with its role, the course's
    cohort, the link and its assignment."""
    role = role_from_claims(claims.get(CLAIM + "roles") or [])
    if role is None:
        raise LaunchRefused(
            "Your role in this course is not one the exam simulator knows (learner, "
            "instructor, content developer or administrator)."
        )
    token_age_check(claims=claims)
    nonce_use(registration=registration, nonce=claims["nonce"])
    deployment_id = claims.get(CLAIM + "deployment_id", "")
    lti_user = lti_user_link(registration=registration, sub=claims["sub"], claims=claims, role=role)
    user = lti_user.user
    context = context_for(registration=registration, claims=claims, deployment_id=deployment_id)
    link = None
    if context is not None:
        cohort = context.cohort
        if role == Role.CANDIDATE:
            Membership.objects.get_or_create(
                cohort=cohort, user=user, defaults={"source": MembershipSource.ADDED}
            )
        elif role == Role.INSTRUCTOR:
            cohort.instructors.add(user)
        else:
            cohort.managers.add(user)
    if role != Role.CANDIDATE:
        # Staff act within the registration's program only (tenancy scoping).
        ProgramStaff.objects.get_or_create(
            program=registration.program,
            user=user,
            role=StaffRole.MANAGER if role == Role.MANAGER else StaffRole.INSTRUCTOR,
        )
    if context is not None and claims.get(CLAIM + "message_type") == "LtiResourceLinkRequest":
        link = link_for(context=context, claims=claims)
        if link is not None and role == Role.CANDIDATE:
            link.learners.add(lti_user)
    log_event("lti.launch", registration_id=registration.pk, user_id=user.pk, role=role.value)
    return LaunchOutcome(user=user, role=role, link=link, context=context)


@transaction.atomic
def link_form_choose(*, link: ResourceLink, form: ExamForm, review_policy: str) -> ResourceLink:
    if not (form.kind == "exam" and form.is_published):
        raise ApplicationError("Only published exam forms can be chosen.")
    link.form = form
    link.review_policy = review_policy
    link.save(update_fields=["form", "review_policy"])
    assignment_ensure(link=link)
    return link


# --- Grades ---------------------------------------------------------------------------
def grade_posts_record(*, attempt_id: int, result) -> list[GradePost]:
    """In the scoring transaction: one GradePost per line item of the links this
    candidate launched that open the attempt's form."""
    if result.scaled_score is None:
        return []
    # The result carries its attempt (scoring created it with the row): no extra query
    # on every scoring, LMS or not.
    attempt = result.attempt
    if attempt.mode != AttemptMode.EXAM:
        return []
    # A retake sat on another form (exams.retakes) answers the link of the assigned form.
    links = ResourceLink.objects.filter(
        form_id=attempt.assigned_form_id or attempt.form_id,
        learners__user_id=attempt.candidate_id,
    ).select_related("context")
    posts = []
    for link in links.distinct():
        if not (link.lineitem_url or _may_find_lineitem(link)):
            continue  # the platform offered no grade service for this link
        if GradePost.objects.filter(attempt_id=attempt_id, link=link).exists():
            continue  # scored again (a rescore): this link's post is already owed or sent
        lti_user = LtiUserRow.objects.get(
            registration_id=link.context.registration_id, user_id=attempt.candidate_id
        )
        if link.lineitem_url:
            post, _ = GradePost.objects.get_or_create(
                attempt_id=attempt_id,
                line_item=link.lineitem_url,
                defaults={"link": link, "lti_user": lti_user},
            )
        else:
            # Found or created on the platform when it is posted (a call that may fail
            # and is retried like the post itself).
            post = GradePost.objects.create(
                attempt_id=attempt_id, line_item="", link=link, lti_user=lti_user
            )
        posts.append(post)
    return posts


def grade_posts_reopen(*, attempt_id: int, result) -> list[int]:
    """In the rescoring transaction: a score the platform holds that is older than the
    rescored result is owed again (once per new result version); a post still pending
    sends the current result anyway. Returns the reopened posts' ids."""
    # No version: sent before versions were recorded, or marked sent because another link's
    # post owns the line item (reopened, it finds that again and sends nothing).
    stale = GradePost.objects.select_for_update().filter(
        Q(sent_result_version__lt=result.version) | Q(sent_result_version__isnull=True),
        attempt_id=attempt_id,
        status=GradePostStatus.SENT,
    )
    ids = list(stale.values_list("pk", flat=True))
    if ids:
        GradePost.objects.filter(pk__in=ids).update(
            status=GradePostStatus.PENDING, tries=0, next_try_at=timezone.now(), last_error=""
        )
        log_event(
            "lti.grade_reopened", attempt_id=attempt_id, version=result.version, posts=len(ids)
        )
    return ids


LINEITEM_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"


def _may_find_lineitem(link: ResourceLink) -> bool:
    """The launch named the line item container and granted the scope to manage it."""
    scopes = (link.ags_endpoint or {}).get("scope") or []
    return bool(link.lineitems_url) and LINEITEM_SCOPE in scopes


# Waits between tries: 1, 2, 4, … minutes, at most 6 hours.
def backoff(tries: int) -> dt.timedelta:
    return dt.timedelta(minutes=min(2 ** max(tries - 1, 0), 360))


def grade_post_send(*, post_id: int, now: dt.datetime | None = None) -> bool:
    """Post one pending grade; True when the platform accepted it.

    The row is locked for the whole try and marked sent in the same transaction as the
    success, so two workers never both send it; a failure records the error and the time
    of the next try.
    """
    now = now or timezone.now()
    with transaction.atomic():
        post = (
            GradePost.objects.select_for_update(skip_locked=True)
            .filter(pk=post_id, status=GradePostStatus.PENDING)
            .select_related("link__context__registration", "lti_user")
            .first()
        )
        if post is None:
            return False
        try:
            # A savepoint: whatever fails in here (the platform, or a query), the failure
            # is still recorded on the post below.
            with transaction.atomic():
                if not post.line_item:
                    url = _lineitem_resolve(post=post)
                    if _another_post_owns(post, url):
                        # Never twice: the attempt's score goes to that line item once.
                        post.status = GradePostStatus.SENT
                        post.last_error = f"Posted through another link of the attempt: {url}"
                        post.save(update_fields=["status", "last_error"])
                        return False
                    post.line_item = url
                sent_version = score_post(post=post)
        except Exception as exc:  # any failure: recorded, retried later with backoff
            post.tries += 1
            post.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            post.next_try_at = now + backoff(post.tries)
            post.save(update_fields=["tries", "last_error", "next_try_at"])
            logger.warning("grade post %s failed (try %s): %s", post.pk, post.tries, exc)
            return False
        post.tries += 1
        post.status = GradePostStatus.SENT
        post.sent_at = timezone.now()
        post.sent_result_version = sent_version
        post.last_error = ""
        post.save(
            update_fields=[
                "tries",
                "status",
                "sent_at",
                "sent_result_version",
                "last_error",
                "line_item",
            ]
        )
    log_event("lti.grade_posted", attempt_id=post.attempt_id, grade_post_id=post.pk)
    return True


def _lineitem_resolve(*, post: GradePost) -> str:
    """The line item of the post's link: known already, or found or created on the platform.

    The link's row is locked while the platform is asked, so two learners' posts for one
    link create one line item, not two; the URL is kept on the link for every later post.
    """
    link = (
        ResourceLink.objects.select_for_update(of=("self",))
        .select_related("form", "context__registration")
        .get(pk=post.link_id)
    )
    if link.lineitem_url:
        return link.lineitem_url
    url = lineitem_find_or_create(link=link)
    link.found_lineitem_url = url
    link.save(update_fields=["found_lineitem_url"])
    log_event("lti.lineitem_found", link_id=link.pk, line_item=url)
    return url


def _another_post_owns(post: GradePost, url: str) -> bool:
    return (
        GradePost.objects.filter(attempt_id=post.attempt_id, line_item=url)
        .exclude(pk=post.pk)
        .exists()
    )


def grade_posts_send_due(*, limit: int = 200, now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    ids = list(GradePost.objects.due(now).order_by("next_try_at").values_list("pk", flat=True))
    return sum(grade_post_send(post_id=pk, now=now) for pk in ids[:limit])


# --- Roster ---------------------------------------------------------------------------
def roster_sync(*, context: Context) -> int:
    """Fill the course's cohort from the platform's membership service; returns how many
    learners it now has from the platform."""
    if not context.memberships_url:
        raise ApplicationError(
            f"{context} has no membership service URL yet: launch it once from the course."
        )
    registration = context.registration
    members = members_fetch(context=context)
    count = 0
    with transaction.atomic():
        for member in members:
            if member.get("status", "Active") != "Active":
                continue
            role = role_from_claims(member.get("roles") or [])
            if role is None:
                continue
            row = lti_user_link(
                registration=registration, sub=member["user_id"], claims=member, role=role
            )
            if role == Role.CANDIDATE:
                Membership.objects.get_or_create(
                    cohort=context.cohort,
                    user=row.user,
                    defaults={"source": MembershipSource.ROSTER},
                )
                count += 1
            elif role == Role.INSTRUCTOR:
                context.cohort.instructors.add(row.user)
            else:
                context.cohort.managers.add(row.user)
    return count
