"""What every page's frame (templates/base.html) shows besides its content: the header's
links and the name of the time zone the page's times are in.

The links are the same on every page of a deployment, so they are reversed once per
process and URL prefix; reversing them on every page cost about as much as rendering an
exam item's options."""

from __future__ import annotations

import functools

from django.urls import get_script_prefix, reverse

from common.clock import zone_abbreviation

_LINKS = ("home", "profile", "password_change", "logout", "time_zone_report")


@functools.cache
def _site_links(prefix: str) -> dict[str, str]:
    return {name: reverse(name) for name in _LINKS}


def page_chrome(request) -> dict:
    """Context processor (settings.TEMPLATES): `site_links` and `zone_abbr`."""
    return {"site_links": _site_links(get_script_prefix()), "zone_abbr": zone_abbreviation()}
