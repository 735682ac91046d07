"""Each person's time zone: validated against the IANA database (zoneinfo), stored on their
profile, kept in their session and activated for every request (ccs_sim.middleware), so
that every time a page shows is in their zone and named with it.

Without a stored zone the site's zone (settings.TIME_ZONE) applies and the page asks the
browser once (static/js/timezone.js posts Intl's zone to `time_zone_report`); the person's
own choice on the profile page always wins over the browser's report.
"""

from __future__ import annotations

import functools
import zoneinfo
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone

from ccs_sim.models import Profile
from common.lifecycle import log_event

# In the session: [user id, zone name or "", settled]. "" = none stored (the site's zone);
# settled = the zone was reported or chosen, so the browser is not asked again.
SESSION_ZONE = "ccs_time_zone"


@functools.cache
def zone_names() -> frozenset[str]:
    """Every IANA zone name this machine knows (read once: the scan is slow)."""
    return frozenset(zoneinfo.available_timezones())


@functools.cache
def zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name)


def zone_clean(value) -> str:
    """The IANA name `value`, or ValidationError saying what is wrong with it."""
    name = value.strip() if isinstance(value, str) else ""
    if not name:
        raise ValidationError("Choose a time zone.")
    if len(name) > 64 or name not in zone_names():
        raise ValidationError(f"{name[:64]!r} is not a time zone name (e.g. America/Chicago).")
    return name


def site_zone_name() -> str:
    return settings.TIME_ZONE


@dataclass(frozen=True)
class SessionZone:
    name: str  # "" = the site's zone
    settled: bool  # False: nothing stored yet, the page asks the browser


def session_time_zone(session) -> SessionZone | None:
    """The signed-in person's zone for this request: from the session, read from the
    profile once per session (one indexed query); None when nobody is signed in. Reads the
    user id from the session, so it never loads the user."""
    user_id = session.get(SESSION_KEY)
    if user_id is None:
        return None
    stored = session.get(SESSION_ZONE)
    if isinstance(stored, list) and len(stored) == 3 and stored[0] == str(user_id):
        return SessionZone(stored[1], bool(stored[2]))
    try:
        row = Profile.objects.filter(user_id=user_id).values_list("time_zone", "time_zone_source")
        name, source = row.first() or ("", "")
    except DatabaseError:
        # The database is down: this request shows the site's zone (the page that needs
        # the database says so itself); nothing is remembered, the next request reads again.
        return SessionZone("", True)
    if name and name not in zone_names():
        name = ""  # a zone the IANA database dropped: the site's zone, never an error
    session[SESSION_ZONE] = [str(user_id), name, bool(source)]
    return SessionZone(name, bool(source))


def remember_zone_on_login(sender, request, user, **kwargs) -> None:
    """user_logged_in: read the person's zone into the new session (ccs_sim.apps)."""
    session = getattr(request, "session", None)
    if session is not None:
        session.pop(SESSION_ZONE, None)
        session_time_zone(session)


def _remember(session, user, name: str) -> None:
    if session is not None:
        session[SESSION_ZONE] = [str(user.pk), name, True]


@transaction.atomic
def profile_set_time_zone(*, user, time_zone: str, session=None) -> Profile:
    """The person's own choice ("" for the site's zone); it stays until they change it."""
    name = zone_clean(time_zone) if time_zone else ""
    profile, _ = Profile.objects.update_or_create(
        user=user, defaults={"time_zone": name, "time_zone_source": "person"}
    )
    _remember(session, user, name)
    log_event("profile.time_zone_set", user_id=user.pk, time_zone=name or "site", source="person")
    return profile


@transaction.atomic
def profile_report_browser_zone(*, user, time_zone: str, session=None) -> bool:
    """The browser's zone, stored only when the person has none: True if it was stored.
    A zone already reported or chosen stays (the report comes once, and a choice wins)."""
    name = zone_clean(time_zone)
    profile, _ = Profile.objects.select_for_update().get_or_create(user=user)
    if profile.time_zone_source:
        _remember(session, user, profile.time_zone)
        return False
    profile.time_zone = name
    profile.time_zone_source = "browser"
    profile.save(update_fields=["time_zone", "time_zone_source", "updated_at"])
    _remember(session, user, name)
    log_event("profile.time_zone_set", user_id=user.pk, time_zone=name, source="browser")
    return True


def zone_choices() -> list[tuple[str, str]]:
    """The profile page's choices: the site's zone first, then every IANA name."""
    return [("", f"The site's time zone ({site_zone_name()})")] + [
        (name, name.replace("_", " ")) for name in sorted(zone_names())
    ]


class TimeZoneMiddleware:
    """Activates the signed-in person's zone for the request (after the session and
    authentication middleware). `request.time_zone_unset` tells the page to ask the
    browser once (templates/base.html, static/js/timezone.js). Costs a session read; the
    one query per session happens on the session's first request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        current = session_time_zone(request.session)
        request.time_zone_unset = current is not None and not current.settled
        if current is not None and current.name:
            timezone.activate(zone(current.name))
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
