"""LTI 1.3: the platforms (LMSs) that launch this tool, the tool's own signing keys, and
what launches leave behind: accounts linked to a platform's users, courses (contexts) with
their cohort, resource links with their form, and the grades still owed to a platform.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from exams.models import ReviewPolicy

# How long a rotated-out public key stays in the JWKS: longer than any token the tool signed
# with it can live (client assertions 5 min, deep-linking responses 10 min, platforms cache
# a key set for hours).
RETIRED_KEY_KEPT = dt.timedelta(days=2)


class ToolKeyQuerySet(models.QuerySet):
    def published(self, now: dt.datetime):
        """Keys whose public half the JWKS offers: the active one and recently retired."""
        return self.filter(Q(is_active=True) | Q(retired_at__gt=now - RETIRED_KEY_KEPT))


class ToolKey(models.Model):
    """An RSA key pair the tool signs with. The private half is never served or shown."""

    kid = models.CharField(max_length=100, unique=True)
    private_key_pem = models.TextField()
    public_key_pem = models.TextField()
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    retired_at = models.DateTimeField(null=True, blank=True)

    objects = ToolKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # Two workers generating the first key at once: one wins, the other reads it.
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="one_active_tool_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kid} ({'active' if self.is_active else 'retired'})"


class Registration(models.Model):
    """A platform (an LMS) registered to launch the tool, for one program."""

    program = models.ForeignKey(
        "tenancy.Program", on_delete=models.PROTECT, related_name="lti_registrations"
    )
    name = models.CharField(max_length=120, blank=True)
    issuer = models.URLField(max_length=255)
    client_id = models.CharField(max_length=255)
    deployment_ids = models.JSONField(
        default=list, help_text="The deployment ids the platform gave this tool (a JSON list)."
    )
    auth_login_url = models.URLField(max_length=500, help_text="The platform's OIDC auth URL.")
    access_token_url = models.URLField(max_length=500)
    keyset_url = models.URLField(max_length=500, help_text="The platform's JWKS URL.")
    frame_origins = models.JSONField(
        default=list,
        blank=True,
        help_text=(
            "The web origins (scheme://host[:port]) of the LMS pages that open the tool in an "
            'iframe, e.g. ["https://school.instructure.com"]. The issuer\'s origin is always '
            "allowed; add the course pages' origin when it differs (Canvas, Brightspace)."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["issuer", "client_id"]
        constraints = [
            models.UniqueConstraint(fields=["issuer", "client_id"], name="lti_registration_once")
        ]

    def __str__(self) -> str:
        return self.name or f"{self.issuer} ({self.client_id})"

    def clean(self):
        origins = self.frame_origins
        if not isinstance(origins, list) or not all(
            isinstance(o, str) and origin_of(o) for o in origins
        ):
            raise ValidationError(
                {
                    "frame_origins": "A JSON list of web origins, each scheme and host "
                    '(and port), e.g. ["https://school.instructure.com"].'
                }
            )

    def embedding_origins(self) -> list[str]:
        """Origins allowed to frame the pages this platform's launches reach."""
        found = [origin_of(self.issuer)] + [origin_of(o) for o in self.frame_origins or []]
        return list(dict.fromkeys(o for o in found if o))


def origin_of(url: str) -> str:
    """scheme://host[:port] of a URL, lower-cased; "" for anything that is not http(s).

    Origins go into a Content-Security-Policy header, so nothing but a plain host name or
    an IP address passes (a space or a semicolon would add a source or a directive).
    """
    parts = urlsplit(str(url or "").strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    try:
        port = parts.port
    except ValueError:
        return ""
    host = parts.hostname.lower()
    if ":" in host:
        try:
            host = f"[{ipaddress.IPv6Address(host)}]"
        except ValueError:
            return ""
    elif not re.fullmatch(r"[a-z0-9.-]+", host):
        return ""
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


class LtiUser(models.Model):
    """The account of a platform's user (its `sub`), created or linked on first launch."""

    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="users")
    sub = models.CharField(max_length=255)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lti_identities"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["registration", "sub"], name="lti_user_once")
        ]

    def __str__(self) -> str:
        return f"{self.sub} at {self.registration}"


class Context(models.Model):
    """A course in the platform; its learners form one cohort."""

    registration = models.ForeignKey(
        Registration, on_delete=models.CASCADE, related_name="contexts"
    )
    context_id = models.CharField(max_length=255)
    title = models.CharField(max_length=255, blank=True)
    cohort = models.OneToOneField(
        "cohorts.Cohort", on_delete=models.PROTECT, related_name="lti_context"
    )
    # From the last launch: where the course's roster is read (Names and Role Provisioning).
    memberships_url = models.URLField(max_length=500, blank=True)
    deployment_id = models.CharField(max_length=255, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["registration", "context_id"], name="lti_context_once")
        ]

    def __str__(self) -> str:
        return self.title or self.context_id


class ResourceLink(models.Model):
    """A placement of the tool in a course: which form it opens and where grades go."""

    context = models.ForeignKey(Context, on_delete=models.CASCADE, related_name="links")
    resource_link_id = models.CharField(max_length=255)
    title = models.CharField(max_length=255, blank=True)
    form = models.ForeignKey(
        "exams.ExamForm", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    review_policy = models.CharField(
        max_length=20, choices=ReviewPolicy.choices, default=ReviewPolicy.AFTER_SUBMISSION
    )
    # The Assignment and Grade Services claim of the last launch (scopes, lineitem URLs).
    ags_endpoint = models.JSONField(default=dict, blank=True)
    learners = models.ManyToManyField(LtiUser, related_name="links", blank=True)
    # The line item the tool found or created for this link (when the platform's launches
    # name only the line item container): one per link, reused by every learner's post.
    found_lineitem_url = models.URLField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["context", "resource_link_id"], name="lti_resource_link_once"
            )
        ]

    def __str__(self) -> str:
        return self.title or self.resource_link_id

    @property
    def lineitem_url(self) -> str:
        """The line item named by the last launch, or the one found or created for it."""
        named = self.ags_endpoint.get("lineitem", "") if self.ags_endpoint else ""
        return named or self.found_lineitem_url

    @property
    def lineitems_url(self) -> str:
        return self.ags_endpoint.get("lineitems", "") if self.ags_endpoint else ""


class UsedNonceQuerySet(models.QuerySet):
    def expired(self, now: dt.datetime, lifetime: dt.timedelta):
        """Nonces whose tokens can no longer be accepted anyway (issued before
        now - lifetime, which the launch refuses), so forgetting them reopens nothing."""
        return self.filter(used_at__lt=now - lifetime)


class UsedNonce(models.Model):
    """Nonces of accepted launches: an id_token is accepted once."""

    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="+")
    nonce = models.CharField(max_length=255)
    used_at = models.DateTimeField(default=timezone.now)

    objects = UsedNonceQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["registration", "nonce"], name="lti_nonce_once")
        ]
        indexes = [models.Index(fields=["used_at"])]

    def __str__(self) -> str:
        return self.nonce


class GradePostStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"


class GradePostQuerySet(models.QuerySet):
    def due(self, now: dt.datetime):
        return self.filter(status=GradePostStatus.PENDING, next_try_at__lte=now)


class GradePost(models.Model):
    """A score owed to a platform's line item: written in the scoring transaction, posted
    by the beat task until the platform accepts it."""

    attempt = models.ForeignKey("exams.Attempt", on_delete=models.CASCADE, related_name="+")
    link = models.ForeignKey(ResourceLink, on_delete=models.CASCADE, related_name="grade_posts")
    lti_user = models.ForeignKey(LtiUser, on_delete=models.CASCADE, related_name="+")
    # Blank until found or created on the platform (a link whose launches name only the
    # line item container); filled in the same transaction as the first successful post.
    line_item = models.URLField(max_length=500, blank=True)
    status = models.CharField(
        max_length=10, choices=GradePostStatus.choices, default=GradePostStatus.PENDING
    )
    tries = models.PositiveIntegerField(default=0)
    next_try_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = GradePostQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]
        constraints = [
            # One score per attempt and line item, whichever links lead to it …
            models.UniqueConstraint(
                fields=["attempt", "line_item"],
                condition=~Q(line_item=""),
                name="grade_post_once",
            ),
            # … and one per attempt and link while the line item is still to be found.
            models.UniqueConstraint(fields=["attempt", "link"], name="grade_post_once_per_link"),
        ]
        indexes = [models.Index(fields=["status", "next_try_at"])]

    def __str__(self) -> str:
        return f"attempt {self.attempt_id} → {self.line_item} ({self.status})"
