"""A Redis outage makes the site slower, never a 500: sign-in and joining a cohort work."""

import socket

import pytest
from django.test import override_settings

from tests.conftest import PASSWORD, program


def closed_port() -> int:
    """A local port nobody listens on: bound, then released."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def dead_redis():
    caches = {
        "default": {
            "BACKEND": "ccs_sim.cache.ResilientRedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    with override_settings(CACHES=caches):
        from django.core.cache import cache

        with pytest.raises(Exception):  # noqa: B017 - any failure proves nobody answers
            cache.ping()
        yield


@pytest.mark.django_db
def test_login_through_the_form_works_while_redis_is_down(client, candidate, dead_redis):
    response = client.post("/login/", {"username": "cand", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/exams/").wsgi_request.user.username == "cand"


@pytest.mark.django_db
def test_joining_a_cohort_works_while_redis_is_down(client, candidate, dead_redis):
    from cohorts.models import Cohort

    cohort = Cohort.objects.create(name="Cohort A", program=program("a"))
    client.force_login(candidate)
    wrong = client.post("/cohorts/join/", {"code": "NOT-A-CODE"})
    assert wrong.status_code == 400
    assert "code" in wrong.context["form"].errors
    right = client.post("/cohorts/join/", {"code": cohort.enrolment_code})
    assert right.status_code == 302
    assert cohort.memberships.filter(user=candidate).exists()
