"""Times of day as the pages show them: in the active time zone (the person's own, set by
ccs_sim.time_zones for each request) and named with it.

Made in Python rather than with the template engine's date filters, which cost tens of
microseconds each on pages that are rendered on every move of an exam."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def zone_abbreviation(moment: dt.datetime | None = None) -> str:
    """The active zone's short name at `moment` (now by default), as "CST" or "UTC";
    its offset ("+0530") where the zone has no abbreviation."""
    local = timezone.localtime(moment)
    return local.tzname() or local.strftime("%z")


def clock_label(moment: dt.datetime | None) -> str:
    """ "14:05 CST": a time of day in the active zone, named with the zone; "" for none."""
    if moment is None:
        return ""
    local = timezone.localtime(moment)
    return f"{local:%H:%M} {zone_abbreviation(local)}"
