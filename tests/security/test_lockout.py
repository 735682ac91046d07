"""Ten failed sign-ins in a row lock an account (and an address) on both login pages."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from tests.conftest import PASSWORD

LIMIT = 10


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.AXES_COOLOFF_TIME = dt.timedelta(minutes=30)


def sign_in(client, username, password, *, url="/login/", ip="198.51.100.7"):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=ip)


def fail(client, username, times, **kwargs):
    for _ in range(times):
        response = sign_in(client, username, "wrong-password", **kwargs)
        assert response.status_code in (200, 429)
    return response


@pytest.mark.django_db
def test_nine_failures_then_the_right_password_signs_in(client, candidate):
    last = fail(client, "cand", LIMIT - 1)
    assert last.status_code == 200
    assert sign_in(client, "cand", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_ten_wrong_passwords_lock_the_account_and_the_right_one_then_fails(client, candidate):
    tenth = fail(client, "cand", LIMIT)
    assert tenth.status_code == 429
    response = sign_in(client, "cand", PASSWORD)
    assert response.status_code == 429
    page = response.content.decode()
    assert "This account is locked" in page
    assert "Try again in 30 minutes" in page
    assert "/password/reset/" in page
    assert not client.get("/exams/").wsgi_request.user.is_authenticated


@pytest.mark.django_db
def test_the_lock_says_how_long_is_left_and_ends_after_the_cool_off(client, candidate):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        fail(client, "cand", LIMIT)
    with time_machine.travel(start + dt.timedelta(minutes=20), tick=False):
        response = sign_in(client, "cand", PASSWORD)
        assert response.status_code == 429
        assert "Try again in 10 minutes" in response.content.decode()
    with time_machine.travel(start + dt.timedelta(minutes=29, seconds=59), tick=False):
        assert sign_in(client, "cand", PASSWORD).status_code == 429
    with time_machine.travel(start + dt.timedelta(minutes=30, seconds=1), tick=False):
        assert sign_in(client, "cand", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_the_account_is_locked_from_every_address(client, candidate):
    for n in range(LIMIT):
        sign_in(client, "cand", "wrong-password", ip=f"203.0.113.{n + 1}")
    response = sign_in(client, "cand", PASSWORD, ip="192.0.2.200")
    assert response.status_code == 429


@pytest.mark.django_db
def test_one_address_guessing_many_accounts_is_locked(client, candidate, other_candidate):
    for n in range(LIMIT):
        sign_in(client, f"nobody-{n}", "wrong-password", ip="198.51.100.99")
    # Another account's right password from that address is refused too ...
    assert sign_in(client, "cand2", PASSWORD, ip="198.51.100.99").status_code == 429
    # ... while the account itself can still sign in from elsewhere.
    assert sign_in(client, "cand2", PASSWORD, ip="198.51.100.100").status_code == 302


@pytest.mark.django_db
def test_a_successful_sign_in_starts_the_count_again_for_that_account(client, candidate):
    fail(client, "cand", LIMIT - 1)
    assert sign_in(client, "cand", PASSWORD).status_code == 302
    client.logout()
    last = fail(client, "cand", LIMIT - 1, ip="198.51.100.8")
    assert last.status_code == 200
    assert sign_in(client, "cand", PASSWORD, ip="198.51.100.8").status_code == 302


@pytest.mark.django_db
def test_signing_in_to_ones_own_account_does_not_clear_guesses_at_another(
    client, candidate, other_candidate
):
    fail(client, "cand", LIMIT - 1)
    assert sign_in(client, "cand2", PASSWORD).status_code == 302
    client.logout()
    assert fail(client, "cand", 1, ip="192.0.2.50").status_code == 429


@pytest.mark.django_db
def test_the_admin_login_locks_too(client, instructor):
    url = "/admin/login/?next=/admin/"
    for _ in range(LIMIT):
        sign_in(client, "instr", "wrong-password", url=url)
    response = sign_in(client, "instr", PASSWORD, url=url)
    assert response.status_code == 429
    assert "This account is locked" in response.content.decode()
    # The lock is the account's, whichever login page is used.
    assert sign_in(client, "instr", PASSWORD).status_code == 429


@pytest.mark.django_db
def test_failures_on_the_admin_page_count_for_the_site_login(client, candidate):
    fail(client, "cand", LIMIT // 2, url="/admin/login/")
    fail(client, "cand", LIMIT - LIMIT // 2)
    assert sign_in(client, "cand", PASSWORD).status_code == 429


@pytest.mark.django_db
def test_behind_a_trusted_proxy_the_forwarded_address_is_counted(client, candidate, settings):
    settings.CCS_TRUSTED_PROXIES = 1
    proxy = "10.0.0.2"
    for n in range(LIMIT):
        client.post(
            "/login/",
            {"username": f"nobody-{n}", "password": "x"},
            REMOTE_ADDR=proxy,
            HTTP_X_FORWARDED_FOR="203.0.113.66",
        )
    # Another client behind the same proxy is not locked out with the guesser.
    ok = client.post(
        "/login/",
        {"username": "cand", "password": PASSWORD},
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR="forged, 203.0.113.67",
    )
    assert ok.status_code == 302
