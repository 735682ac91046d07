import pytest
from django.db import OperationalError
from django.test import override_settings

from ccs_sim import health as probes
from ccs_sim.celery import app as celery_app
from common import health

DEAD_REDIS = "redis://127.0.0.1:1/0"
DEAD_CACHE = {
    "default": {
        "BACKEND": "ccs_sim.cache.ResilientRedisCache",
        "LOCATION": DEAD_REDIS,
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    }
}


@pytest.fixture
def background_alive():
    """A worker ran its heartbeat and beat's expiry sweep ran just now (with a broker
    configured, /healthz asks for both)."""
    health.mark("heartbeat")
    health.mark("sweep")


@pytest.mark.django_db
def test_healthz_is_200_when_everything_answers(client, background_alive):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["cache"] == "ok"


@pytest.mark.django_db
def test_healthz_is_503_naming_the_cache_when_redis_is_down(client):
    with override_settings(CACHES=DEAD_CACHE):
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["down"] == ["cache"]
    assert body["checks"]["database"] == "ok"


@pytest.mark.django_db
def test_healthz_is_503_naming_the_broker_when_it_is_down(client, monkeypatch):
    monkeypatch.setattr(celery_app.conf, "broker_url", DEAD_REDIS)
    with override_settings(CELERY_TASK_ALWAYS_EAGER=False):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert "broker" in response.json()["down"]


@pytest.mark.django_db
def test_healthz_is_503_naming_the_database_when_it_fails(client, monkeypatch, background_alive):
    def broken_cursor():
        raise OperationalError("connection refused")

    monkeypatch.setattr(probes.connection, "cursor", broken_cursor)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["down"] == ["database"]


@pytest.mark.django_db
def test_healthz_reports_a_real_redis_as_up(client, redis_url):
    live = {
        "default": {"BACKEND": "ccs_sim.cache.ResilientRedisCache", "LOCATION": redis_url},
    }
    with override_settings(CACHES=live):
        health.mark("heartbeat")
        health.mark("sweep")
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"]["cache"] == "ok"
