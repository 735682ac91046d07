"""Sign-in protection: lockout (django-axes) answers, the client address, password reset.

django-axes counts failed sign-ins per username and per client address in the database
(so a Redis outage changes nothing) and refuses both login pages once either reaches
AXES_FAILURE_LIMIT within the cool-off.
"""

from __future__ import annotations

import ipaddress
import math
import unicodedata

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import PasswordResetForm
from django.db.models import Max, Q
from django.shortcuts import render
from django.utils import timezone


def csp_nonce(request) -> dict:
    """The CSP nonce under the name django-htmx's {% htmx_script %} looks for."""
    return {"csp_nonce": getattr(request, "csp_nonce", "")}


def client_ip(request) -> str | None:
    """The client's address for lockout counting (None when there is none).

    Behind CCS_TRUSTED_PROXIES proxies, REMOTE_ADDR is the nearest proxy; each proxy
    appends the address it saw to X-Forwarded-For, so the client is that many entries from
    the right. Entries further left were written by the client and prove nothing.
    Without trusted proxies every login would otherwise share the proxy's address, and ten
    wrong passwords anywhere would lock everybody out.
    """
    remote = _ip_or_none(request.META.get("REMOTE_ADDR", ""))
    hops = settings.CCS_TRUSTED_PROXIES
    if hops <= 0:
        return remote
    forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < hops:
        return remote
    return _ip_or_none(forwarded[-hops]) or remote


def _ip_or_none(text: str) -> str | None:
    # axes stores the address in a GenericIPAddressField (inet on PostgreSQL).
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def _minutes_left(request, credentials) -> int:
    from axes.helpers import get_client_username
    from axes.models import AccessAttempt

    cool_off = settings.AXES_COOLOFF_TIME
    username = get_client_username(request, credentials)
    ip = getattr(request, "axes_ip_address", None) or client_ip(request)
    mine = Q(username=username) | Q(ip_address=ip) if ip else Q(username=username)
    last = AccessAttempt.objects.filter(mine).aggregate(last=Max("attempt_time"))["last"]
    if last is None:
        return math.ceil(cool_off.total_seconds() / 60)
    left = (last + cool_off - timezone.now()).total_seconds()
    return max(1, math.ceil(left / 60))


def lockout_response(request, original_response=None, credentials=None):
    """The page both login forms answer with while sign-in is locked (AXES_LOCKOUT_CALLABLE)."""
    minutes = _minutes_left(request, credentials)
    context = {
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "minutes_left": minutes,
        "cooloff_minutes": round(settings.AXES_COOLOFF_TIME.total_seconds() / 60),
    }
    return render(
        request,
        "registration/locked_out.html",
        context,
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )


def reset_failures_on_login(sender, request, user, **kwargs):
    """A successful sign-in clears that account's failures ("ten in a row").

    Only the account's own rows go: axes' AXES_RESET_ON_SUCCESS would also clear every
    failure from the same address, so anyone with an account could sign in between
    guesses at someone else's password and never reach the limit.
    """
    from axes.models import AccessAttempt

    AccessAttempt.objects.filter(username=user.get_username()).delete()


class ResetPasswordForm(PasswordResetForm):
    """Django's reset form, also reaching accounts that have never had a password.

    A roster enrolment creates the account without a password and e-mails a link to set
    one; that e-mail tells the candidate to use "Forgot password" when the link has
    expired, so such accounts (active, never signed in) must receive the reset e-mail.
    Django's own form skips every account without a usable password.
    """

    def get_users(self, email):
        user_model = get_user_model()
        email_field = user_model.get_email_field_name()
        candidates = user_model._default_manager.filter(
            **{f"{email_field}__iexact": email, "is_active": True}
        )
        for user in candidates:
            if _folded(getattr(user, email_field) or "") != _folded(email):
                continue
            if user.has_usable_password() or user.last_login is None:
                yield user


def _folded(text: str) -> str:
    # As Django's own reset form compares addresses: Unicode-normalised, case-folded.
    return unicodedata.normalize("NFKC", text).casefold()


class LockoutBackend(AxesStandaloneBackend):
    """axes' lockout check, skipped for authenticate() calls that carry no request.

    Every sign-in page passes the request; calls without one (the test client's login(),
    the shell) have no address to count and cannot be answered with a page, and axes'
    own backend would refuse them outright.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
