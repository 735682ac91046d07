import importlib
import shutil
import sys
from pathlib import Path

import pytest
import yaml
from django.test import override_settings

ROOT = Path(__file__).resolve().parents[2]
DEAD_CACHE = {
    "default": {
        "BACKEND": "ccs_sim.cache.ResilientRedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    }
}


@pytest.mark.django_db
def test_a_redis_outage_does_not_log_anyone_out(client, candidate, redis_url):
    live = {"default": {"BACKEND": "ccs_sim.cache.ResilientRedisCache", "LOCATION": redis_url}}
    with override_settings(CACHES=live):
        assert client.login(username="cand", password="pw-for-tests-1")
        assert client.get("/exams/").status_code == 200
    # Redis goes away: the session is read from the database instead.
    with override_settings(CACHES=DEAD_CACHE):
        response = client.get("/exams/")
        assert response.status_code == 200
        assert response.wsgi_request.user.username == "cand"


@pytest.mark.django_db
def test_sessions_survive_without_any_cache_entry(client, candidate):
    with override_settings(CACHES=DEAD_CACHE):
        assert client.login(username="cand", password="pw-for-tests-1")
        assert client.get("/exams/").wsgi_request.user.is_authenticated


def test_docker_compose_parses_and_has_the_services_with_health_checks():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(services)
    for name in ("postgres", "redis", "web", "worker"):
        assert "healthcheck" in services[name], name
    assert "pgdata" in compose["volumes"]
    assert any("pgdata:" in v for v in services["postgres"]["volumes"])


def test_docker_compose_commands_exist_in_the_project():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    bin_dir = Path(sys.executable).parent
    for name, service in compose["services"].items():
        command = service.get("command")
        if not command or service.get("image", "").startswith(("postgres", "redis")):
            continue
        program = command[0]
        assert (bin_dir / program).exists() or shutil.which(program), (
            f"{name}: {program} not installed"
        )
        if program == "gunicorn":
            module, attr = command[1].split(":")
            assert callable(getattr(importlib.import_module(module), attr))
        elif program == "celery":
            app_module = command[command.index("-A") + 1]
            assert importlib.import_module(app_module).celery_app.main == "ccs_sim"
        elif program == "python":
            assert command[1] == "manage.py" and (ROOT / "manage.py").exists()
            from django.core.management import get_commands

            assert command[2] in get_commands()


def test_dockerfile_copies_every_app():
    dockerfile = (ROOT / "Dockerfile").read_text()
    for app in ("ccs_sim", "questionbank", "exams", "scoring", "cohorts", "codebook"):
        assert f"COPY {app} {app}" in dockerfile
