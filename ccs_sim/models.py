"""A person's own settings (their profile): for now, the time zone every time is shown in."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Profile(models.Model):
    """One per person, created on their first setting. No row means every default."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="profile"
    )
    # An IANA name (Europe/Berlin), checked against zoneinfo; blank: the site's zone.
    time_zone = models.CharField(max_length=64, blank=True)
    # Where the zone came from: nowhere yet (the page asks the browser), the browser's
    # report, or the person's own choice on the profile page (which a report never
    # overwrites; choosing "the site's zone" is a choice too).
    time_zone_source = models.CharField(
        max_length=8,
        blank=True,
        choices=[("", "not set"), ("browser", "reported by the browser"), ("person", "chosen")],
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Profile of user {self.user_id}"
