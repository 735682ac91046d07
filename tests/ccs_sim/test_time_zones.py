"""Each person's time zone: validated IANA names, the browser's report stored once and
never over a choice, the profile page, the zone activated per request (one profile read
per session) and shown with every time."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import SESSION_KEY
from django.core.exceptions import ValidationError
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ccs_sim import time_zones
from ccs_sim.models import Profile
from cohorts.forms import AssignmentForm
from exams import services as exams_services
from exams.eligibility import AssignmentTerms
from tests.factories import finished_attempt, published_form, scored_form

pytestmark = pytest.mark.django_db

REPORT = "/profile/time-zone/"


def abbr(name: str) -> str:
    """The zone's abbreviation now (CET or CEST, depending on the day the test runs)."""
    return timezone.now().astimezone(time_zones.zone(name)).strftime("%Z")


@pytest.mark.parametrize("name", ["Europe/Berlin", "America/Argentina/Buenos_Aires", "UTC"])
def test_iana_names_are_accepted(name):
    assert time_zones.zone_clean(f" {name} ") == name


@pytest.mark.parametrize(
    "bad", ["", "  ", "Mars/Olympus", "europe/berlin", "CET+1", "A" * 80, None, 5]
)
def test_anything_else_is_refused_with_a_message(bad):
    with pytest.raises(ValidationError) as exc:
        time_zones.zone_clean(bad)
    assert exc.value.messages[0]


def test_a_person_without_a_zone_is_asked_once_and_sees_the_site_zone(client, candidate):
    client.force_login(candidate)
    page = client.get("/exams/").content.decode()
    assert f'data-tz-report="{REPORT}"' in page
    assert "(times in UTC)" in page
    assert client.post(REPORT, {"time_zone": "Europe/Berlin"}).status_code == 204
    assert Profile.objects.get(user=candidate).time_zone == "Europe/Berlin"
    page = client.get("/exams/").content.decode()
    assert "data-tz-report" not in page
    assert f"(times in {abbr('Europe/Berlin')})" in page


def test_the_browser_report_never_replaces_a_stored_zone(client, candidate):
    client.force_login(candidate)
    assert client.post(REPORT, {"time_zone": "Asia/Tokyo"}).status_code == 204
    assert client.post(REPORT, {"time_zone": "Europe/Paris"}).status_code == 204
    profile = Profile.objects.get(user=candidate)
    assert (profile.time_zone, profile.time_zone_source) == ("Asia/Tokyo", "browser")


def test_a_bad_report_is_refused_and_stores_nothing(client, candidate):
    client.force_login(candidate)
    response = client.post(REPORT, {"time_zone": "Mars/Olympus"})
    assert response.status_code == 400
    assert "not a time zone" in response.content.decode()
    assert not Profile.objects.filter(user=candidate, time_zone_source__gt="").exists()
    assert "data-tz-report" in client.get("/exams/").content.decode()


def test_the_person_chooses_on_the_profile_page_and_the_choice_wins(client, candidate):
    client.force_login(candidate)
    client.post(REPORT, {"time_zone": "Asia/Tokyo"})
    page = client.get("/profile/").content.decode()
    assert '<option value="Asia/Tokyo" selected>' in page
    response = client.post("/profile/", {"time_zone": "America/Chicago"}, follow=True)
    assert "Times are now shown in America/Chicago." in response.content.decode()
    assert f"(times in {abbr('America/Chicago')})" in response.content.decode()
    client.post(REPORT, {"time_zone": "Asia/Tokyo"})
    profile = Profile.objects.get(user=candidate)
    assert (profile.time_zone, profile.time_zone_source) == ("America/Chicago", "person")


def test_choosing_the_site_zone_is_a_choice_the_browser_does_not_undo(client, candidate):
    client.force_login(candidate)
    client.post("/profile/", {"time_zone": ""})
    assert "data-tz-report" not in client.get("/exams/").content.decode()
    client.post(REPORT, {"time_zone": "Asia/Tokyo"})
    assert Profile.objects.get(user=candidate).time_zone == ""


def test_the_profile_page_refuses_an_unknown_zone_and_keeps_the_old_one(client, candidate):
    client.force_login(candidate)
    client.post("/profile/", {"time_zone": "Europe/Berlin"})
    response = client.post("/profile/", {"time_zone": "Mars/Olympus"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert Profile.objects.get(user=candidate).time_zone == "Europe/Berlin"


def test_the_zone_is_read_once_per_session(client, candidate):
    client.force_login(candidate)
    client.post("/profile/", {"time_zone": "Europe/Berlin"})
    client.get("/exams/")
    with CaptureQueriesContext(connection) as queries:
        client.get("/exams/")
    assert not [q for q in queries.captured_queries if "ccs_sim_profile" in q["sql"]]


def test_a_new_session_reads_the_stored_zone(client, candidate):
    Profile.objects.create(user=candidate, time_zone="Asia/Kolkata", time_zone_source="person")
    client.force_login(candidate)
    assert "(times in IST)" in client.get("/exams/").content.decode()


def test_attempt_times_and_the_report_are_shown_in_the_persons_zone(client, candidate):
    form = scored_form({1: 2}, name="Zone form")
    started = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    attempt = finished_attempt(form, candidate, started_at=started, minutes_used=30)
    Profile.objects.create(user=candidate, time_zone="Europe/Berlin", time_zone_source="person")
    client.force_login(candidate)
    home = client.get("/exams/").content.decode()
    assert "Mar 2, 2026 10:00 CET" in home  # 09:00 UTC
    report = client.get(f"/scores/attempts/{attempt.pk}/").content.decode()
    assert "Mar 2, 2026, 10:30 CET" in report  # submitted at 09:30 UTC


def test_a_window_refusal_names_the_zone():
    terms = AssignmentTerms(
        form_id=1,
        assignment_id=1,
        cohort_id=1,
        opens_at=dt.datetime(2026, 7, 1, 12, 0, tzinfo=dt.UTC),
        closes_at=None,
        max_attempts=None,
        attempts_used=0,
        review_policy="none",
    )
    with timezone.override(time_zones.zone("America/New_York")):
        refusal = terms.refusal(dt.datetime(2026, 6, 1, tzinfo=dt.UTC))
    assert refusal == "This exam opens on 01 Jul 2026 at 08:00 EDT."


def test_a_database_error_reading_the_zone_shows_the_site_zone(candidate, monkeypatch):
    def down(*args, **kwargs):
        raise OperationalError("the database is down")

    monkeypatch.setattr(Profile.objects, "filter", down)
    session = {SESSION_KEY: str(candidate.pk)}
    assert time_zones.session_time_zone(session) == time_zones.SessionZone("", True)
    assert time_zones.SESSION_ZONE not in session


def test_an_attempts_pages_never_ask_so_their_offline_copy_needs_no_other_script(client, candidate):
    form = published_form({1: 2}, name="Offline zone form")
    attempt = exams_services.attempt_start(form=form, candidate=candidate)
    client.force_login(candidate)
    page = client.get(f"/exams/attempts/{attempt.pk}/items/1/").content.decode()
    assert "data-tz-report" not in page and "timezone.js" not in page
    assert "data-tz-report" in client.get("/exams/").content.decode()


def test_an_assignment_window_is_entered_in_the_staff_members_zone():
    with timezone.override(time_zones.zone("Europe/Berlin")):
        form = AssignmentForm(
            data={"opens_at": "2026-07-01T09:00", "max_attempts": 1, "review_policy": "none"}
        )
        assert form.fields["opens_at"].label == "Opens (Europe/Berlin)"
        form.is_valid()
        # 09:00 in Berlin in summer (CEST, UTC+2) is 07:00 UTC.
        assert form.cleaned_data["opens_at"] == dt.datetime(2026, 7, 1, 7, 0, tzinfo=dt.UTC)


def test_the_exam_clock_without_javascript_names_its_times_in_the_persons_zone(client, candidate):
    """The item page's "at 08:05 CST; the exam ends at 12:05 CST" (common.clock): the
    page's time and the deadline in the person's zone, named with it."""
    Profile.objects.create(user=candidate, time_zone="America/Chicago", time_zone_source="person")
    form = published_form({1: 2}, minutes=90)
    client.force_login(candidate)
    attempt = exams_services.attempt_start(form_id=form.pk, candidate=candidate)
    before = timezone.now()
    page = client.get(f"/exams/attempts/{attempt.pk}/items/1/").content.decode()
    chicago = time_zones.zone("America/Chicago")
    shown = before.astimezone(chicago)
    ends = attempt.deadline.astimezone(chicago)
    as_of = {f"{(shown + dt.timedelta(minutes=m)):%H:%M %Z}" for m in (0, 1)}
    assert any(
        f"at {label}; the exam ends at {ends:%H:%M %Z} (reload to update)" in page
        for label in as_of
    ), page[page.find("timer-asof") : page.find("timer-asof") + 160]
    assert ends.strftime("%Z") in ("CST", "CDT")
