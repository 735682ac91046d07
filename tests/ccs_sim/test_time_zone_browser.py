"""A browser set to a time zone reports it once; the site stores it and shows times in it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from ccs_sim import time_zones
from ccs_sim.models import Profile
from tests.a11y import assert_accessible
from tests.conftest import watch_csp
from tests.factories import finished_attempt, scored_form

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ZONE = "America/Chicago"


def test_the_browsers_zone_is_stored_and_shown(browser, live_server, login_in_browser, candidate):
    form = scored_form({1: 2}, name="Zone form")
    started = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC)
    finished_attempt(form, candidate, started_at=started, minutes_used=30)
    context = browser.new_context(timezone_id=ZONE)
    violations = watch_csp(context)
    page = context.new_page()
    try:
        login_in_browser(page, candidate)
        # The page the sign-in lands on asks the browser (its own times were in UTC).
        for _ in range(50):
            if Profile.objects.filter(user=candidate, time_zone=ZONE).exists():
                break
            page.wait_for_timeout(100)
        profile = Profile.objects.get(user=candidate)
        assert (profile.time_zone, profile.time_zone_source) == (ZONE, "browser")
        page.reload()
        abbr = timezone.now().astimezone(time_zones.zone(ZONE)).strftime("%Z")
        assert f"(times in {abbr})" in page.locator("#profile-link").inner_text()
        assert page.locator("body[data-tz-report]").count() == 0
        # 15:00 UTC on 2 March is 09:00 in Chicago (CST).
        assert "Mar 2, 2026 09:00 CST" in page.locator("main").inner_text()
        page.get_by_role("link", name="Profile").click()
        assert page.get_by_label("Time zone").input_value() == ZONE
        assert ZONE in page.locator("#current-zone").inner_text()
        assert_accessible(page)
    finally:
        context.close()
    assert not violations, violations


def test_without_javascript_times_stay_in_the_site_zone(
    browser, live_server, login_in_browser, candidate
):
    context = browser.new_context(timezone_id=ZONE, java_script_enabled=False)
    page = context.new_page()
    try:
        login_in_browser(page, candidate)
        page.goto(f"{live_server.url}/exams/")
        page.goto(f"{live_server.url}/exams/")
        assert "(times in UTC)" in page.locator("#profile-link").inner_text()
        assert not Profile.objects.filter(user=candidate).exclude(time_zone="").exists()
        # The person can still choose it on the profile page.
        page.goto(f"{live_server.url}/profile/")
        page.get_by_label("Time zone").select_option(ZONE)
        page.get_by_role("button", name="Save time zone").click()
        page.wait_for_load_state()
        assert f"Times are now shown in {ZONE}." in page.locator("main").inner_text()
    finally:
        context.close()
