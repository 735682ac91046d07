"""The LMS opens the tool in an iframe: the pages a launch reaches may be framed by that
platform's origins only, and the cookies they need are sent cross-site; every other page
keeps X-Frame-Options DENY, frame-ancestors 'none' and SameSite=Lax cookies."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from lti.models import Registration, origin_of
from lti.services import registration_save
from tests.factories import published_form
from tests.lti.platform import launch

pytestmark = pytest.mark.django_db

LMS_PAGES = "https://school.lms.example.edu"


def frame_ancestors(response) -> str:
    policy = response["Content-Security-Policy"]
    [directive] = [d.strip() for d in policy.split(";") if "frame-ancestors" in d]
    return directive


def framed_by_lms_only(response, *origins) -> None:
    assert "X-Frame-Options" not in response
    assert frame_ancestors(response) == "frame-ancestors " + " ".join(origins)


def not_frameable(response) -> None:
    assert response["X-Frame-Options"] == "DENY"
    assert frame_ancestors(response) == "frame-ancestors 'none'"


@pytest.fixture
def embedded(registration):
    Registration.objects.filter(pk=registration.pk).update(frame_origins=[LMS_PAGES])
    return published_form({1: 2}, available_to_all=False)


def test_pages_reached_by_a_launch_are_frameable_by_that_platform_only(client, platform, embedded):
    response = launch(client, platform, custom={"form_id": str(embedded.pk)})
    framed_by_lms_only(response, "https://lms.example.edu", LMS_PAGES)
    instructions = client.get(response["Location"])
    assert instructions.status_code == 200
    framed_by_lms_only(instructions, "https://lms.example.edu", LMS_PAGES)
    framed_by_lms_only(client.get("/exams/"), "https://lms.example.edu", LMS_PAGES)


def test_admin_pages_stay_unframeable_even_in_a_launched_session(client, platform, embedded):
    launch(client, platform, custom={"form_id": str(embedded.pk)})
    not_frameable(client.get("/admin/login/"))


def test_other_sessions_and_anonymous_pages_are_not_frameable(client, candidate, embedded):
    not_frameable(client.get("/login/"))
    client.force_login(candidate)
    not_frameable(client.get(reverse("exams:instructions", kwargs={"form_id": embedded.pk})))


def test_logging_out_ends_the_framing(client, platform, embedded):
    launch(client, platform, custom={"form_id": str(embedded.pk)})
    client.post(reverse("logout"))
    not_frameable(client.get("/login/"))


def test_launch_flow_endpoints_are_frameable_by_registered_platforms_only(
    client, registration, embedded
):
    other = registration_save(
        program_slug="him-college",
        issuer="https://moodle.example.org",
        client_id="x",
        deployment_id="1",
        auth_url="https://moodle.example.org/auth",
        token_url="https://moodle.example.org/token",
        jwks_url="https://moodle.example.org/jwks",
    )
    assert other.embedding_origins() == ["https://moodle.example.org"]
    refused = client.get("/lti/login/")  # no parameters: a refusal page, still in the frame
    assert refused.status_code == 400
    framed_by_lms_only(refused, "https://lms.example.edu", LMS_PAGES, "https://moodle.example.org")
    not_frameable(client.get("/lti/jwks/"))


def test_a_second_lms_can_launch_in_a_session_the_first_one_framed(client, platform, embedded):
    launch(client, platform, custom={"form_id": str(embedded.pk)})
    registration_save(
        program_slug="him-college",
        issuer="https://moodle.example.org",
        client_id="x",
        deployment_id="1",
        auth_url="https://moodle.example.org/auth",
        token_url="https://moodle.example.org/token",
        jwks_url="https://moodle.example.org/jwks",
    )
    login = client.get("/lti/login/", {"iss": "https://moodle.example.org", "login_hint": "u"})
    assert "https://moodle.example.org" in frame_ancestors(login)


def test_launch_flow_endpoints_are_not_frameable_without_registrations(client, db):
    not_frameable(client.get("/lti/login/"))


# --- Cookies -----------------------------------------------------------------------------------
def cookie(response, name):
    return response.cookies[name]


def test_on_https_the_launch_flow_cookies_are_cross_site(client, registration, settings):
    assert settings.CCS_LTI_CROSS_SITE_COOKIES == "https"  # the documented default
    response = client.get(
        "/lti/login/",
        {
            "iss": "https://lms.example.edu",
            "login_hint": "learner-1",
            "target_link_uri": "https://testserver/lti/launch/",
            "client_id": "ccs-sim-tool",
        },
        secure=True,
    )
    assert response.status_code == 302
    names = [n for n in response.cookies if n.startswith("lti1p3-")] + ["sessionid"]
    assert len(names) == 2
    for name in names:
        assert cookie(response, name)["samesite"] == "None"
        assert cookie(response, name)["secure"] is True
        header = cookie(response, name).OutputString()
        assert header.endswith("; Partitioned") and "SameSite=None" in header


def test_on_plain_http_the_default_keeps_lax_cookies(client, platform, embedded):
    response = launch(client, platform, custom={"form_id": str(embedded.pk)})
    assert cookie(response, "sessionid")["samesite"] == "Lax"
    assert not cookie(response, "sessionid")["secure"]
    assert "Partitioned" not in cookie(response, "sessionid").OutputString()


def test_always_makes_a_launched_sessions_cookies_cross_site(client, platform, embedded, settings):
    settings.CCS_LTI_CROSS_SITE_COOKIES = "always"
    response = launch(client, platform, custom={"form_id": str(embedded.pk)})
    assert cookie(response, "sessionid")["samesite"] == "None"
    assert cookie(response, "sessionid")["secure"] is True
    page = client.get(response["Location"])  # renders a form: the CSRF cookie is set
    assert cookie(page, "csrftoken")["samesite"] == "None"
    assert cookie(page, "csrftoken")["secure"] is True


def test_ordinary_sign_ins_keep_lax_cookies_even_with_always(client, candidate, settings):
    settings.CCS_LTI_CROSS_SITE_COOKIES = "always"
    client.get("/login/")
    response = client.post("/login/", {"username": "cand", "password": "pw-for-tests-1"})
    assert response.status_code == 302
    assert cookie(response, "sessionid")["samesite"] == "Lax"


def test_off_keeps_lax_cookies_on_https(client, registration, settings):
    settings.CCS_LTI_CROSS_SITE_COOKIES = "off"
    response = client.get(
        "/lti/login/",
        {
            "iss": "https://lms.example.edu",
            "login_hint": "learner-1",
            "target_link_uri": "https://testserver/lti/launch/",
        },
        secure=True,
    )
    assert cookie(response, "sessionid")["samesite"] == "Lax"


# --- Registered origins ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value, origin",
    [
        ("https://School.Example.edu/courses/1", "https://school.example.edu"),
        ("http://127.0.0.1:8123/", "http://127.0.0.1:8123"),
        ("https://[::1]:8443/x", "https://[::1]:8443"),
        ("https://a.example; script-src *", ""),
        ("https://a.example 'unsafe-inline'", ""),
        ("javascript:alert(1)", ""),
        ("school.example.edu", ""),
        ("https://a.example:99999", ""),
    ],
)
def test_only_plain_origins_reach_the_policy(value, origin):
    assert origin_of(value) == origin


def _register(*extra):
    call_command(
        "lti_register_platform", "--program", "him", "--issuer", "https://canvas.example.com",
        "--client-id", "c1", "--deployment-id", "d1", "--auth-url", "https://sso.example.com/a",
        "--token-url", "https://sso.example.com/t", "--jwks-url", "https://sso.example.com/j",
        *extra,
    )  # fmt: skip


def test_register_command_takes_the_course_pages_origin(db):
    from tenancy.models import Program

    Program.objects.create(slug="him", name="HIM")
    _register("--frame-origin", "https://school.instructure.com/courses/7")
    registration = Registration.objects.get()
    assert registration.embedding_origins() == [
        "https://canvas.example.com",
        "https://school.instructure.com",
    ]
    _register()  # rerun without: the list is kept
    assert Registration.objects.get().frame_origins == ["https://school.instructure.com"]
    with pytest.raises(CommandError, match="not a web origin"):
        _register("--frame-origin", "https://x.example; script-src *")
    assert Registration.objects.get().frame_origins == ["https://school.instructure.com"]


def test_the_admin_form_refuses_a_value_that_is_not_an_origin(registration):
    from django.core.exceptions import ValidationError

    registration.frame_origins = ["https://ok.example", "not an origin"]
    with pytest.raises(ValidationError, match="web origins"):
        registration.full_clean()


def test_a_misspelt_cookie_mode_fails_loudly(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from ccs_sim.env import env_choice

    choices = ("https", "always", "off")
    monkeypatch.setenv("CCS_LTI_CROSS_SITE_COOKIES", " Always ")
    assert env_choice("CCS_LTI_CROSS_SITE_COOKIES", "https", choices) == "always"
    monkeypatch.setenv("CCS_LTI_CROSS_SITE_COOKIES", "none")
    with pytest.raises(ImproperlyConfigured, match="CCS_LTI_CROSS_SITE_COOKIES must be one of"):
        env_choice("CCS_LTI_CROSS_SITE_COOKIES", "https", choices)
    monkeypatch.delenv("CCS_LTI_CROSS_SITE_COOKIES")
    assert env_choice("CCS_LTI_CROSS_SITE_COOKIES", "https", choices) == "https"
