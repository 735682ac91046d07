"""common.accounts.AccountBackend: who signs in, and the user of every request loaded by a
statement built once, with sessions from before it still signed in."""

from __future__ import annotations

import re
from unittest import mock

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from common.accounts import ACCOUNT_BACKEND, DJANGO_MODEL_BACKEND
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def sign_in(client, username, password):
    return client.post("/login/", {"username": username, "password": password})


def user_reads(queries) -> list[str]:
    """Reads of the user's own row (not of their groups or permissions)."""
    return [q["sql"] for q in queries if re.search(r'FROM "auth_user"(\s|$)', q["sql"])]


def test_signing_in_names_the_account_backend_and_each_request_reads_the_user_once(
    client, candidate
):
    assert sign_in(client, "cand", PASSWORD).status_code == 302
    assert client.session[BACKEND_SESSION_KEY] == ACCOUNT_BACKEND
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/exams/")
    assert response.status_code == 200
    assert response.wsgi_request.user.pk == candidate.pk
    reads = user_reads(ctx.captured_queries)
    assert len(reads) == 1
    # Its own statement (every column by name), not the ORM's get()
    assert '"last_login", "is_superuser"' in reads[0] and "LIMIT" not in reads[0]


def test_a_session_signed_in_before_it_existed_stays_signed_in(client, candidate):
    """A candidate mid-exam while this release is deployed: the session names Django's
    ModelBackend."""
    session = client.session
    session[SESSION_KEY] = str(candidate.pk)
    session[BACKEND_SESSION_KEY] = DJANGO_MODEL_BACKEND
    session[HASH_SESSION_KEY] = candidate.get_session_auth_hash()
    session.save()
    client.cookies["sessionid"] = session.session_key
    response = client.get("/exams/")
    assert response.status_code == 200
    assert response.wsgi_request.user.pk == candidate.pk


def test_a_wrong_password_is_checked_once(client, candidate):
    with mock.patch.object(User, "check_password", autospec=True, return_value=False) as check:
        response = sign_in(client, "cand", "not-the-password")
    assert response.status_code == 200
    assert check.call_count == 1
    assert not client.get("/exams/").wsgi_request.user.is_authenticated


def test_an_unknown_name_costs_one_hash_too(client):
    """ModelBackend hashes the password of an unknown name once, so that the time taken does
    not tell whether the account exists; the fallback backend must not do it again."""
    with mock.patch.object(User, "set_password", autospec=True) as hashed:
        response = sign_in(client, "nobody-here", "whatever")
    assert response.status_code == 200
    assert hashed.call_count == 1


def test_a_deactivated_account_is_signed_out_on_its_next_request(client, candidate):
    assert sign_in(client, "cand", PASSWORD).status_code == 302
    User.objects.filter(pk=candidate.pk).update(is_active=False)
    response = client.get("/exams/")
    assert response.status_code == 302
    assert not response.wsgi_request.user.is_authenticated


def test_a_changed_password_signs_other_sessions_out(client, candidate):
    assert sign_in(client, "cand", PASSWORD).status_code == 302
    candidate.set_password("a-new-password-123")
    candidate.save()
    assert not client.get("/exams/").wsgi_request.user.is_authenticated
