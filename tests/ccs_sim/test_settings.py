import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from ccs_sim.env import (
    database_from_url,
    env_bool,
    env_int,
    env_int_or_off,
    env_list,
    redis_url,
)
from tests.conftest import need

ROOT = Path(__file__).resolve().parents[2]
GOOD_SECRET = "k3J9-very-long-production-secret-value-with-many-unique-chars-!@#$%^&*()"


def run_manage(*args, **env):
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True, text=True
    )


def test_env_bool_accepts_usual_spellings_and_rejects_others(monkeypatch):
    monkeypatch.setenv("X_FLAG", "yes")
    assert env_bool("X_FLAG") is True
    monkeypatch.setenv("X_FLAG", "0")
    assert env_bool("X_FLAG", default=True) is False
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="X_FLAG"):
        env_bool("X_FLAG")


def test_env_int_names_the_variable_on_garbage_and_minimum(monkeypatch):
    monkeypatch.setenv("X_NUM", "ten")
    with pytest.raises(ImproperlyConfigured, match="X_NUM must be an integer"):
        env_int("X_NUM", 1)
    monkeypatch.setenv("X_NUM", "-1")
    with pytest.raises(ImproperlyConfigured, match="X_NUM must be at least 0"):
        env_int("X_NUM", 1, minimum=0)


def test_env_list_splits_and_trims(monkeypatch):
    monkeypatch.setenv("X_LIST", " a.example, b.example ,,")
    assert env_list("X_LIST") == ["a.example", "b.example"]


def test_postgres_url_gives_psycopg_settings_with_persistent_connections():
    db = database_from_url(
        "DATABASE_URL", "postgres://u:p%40ss@db.local:6543/ccs?sslmode=require", conn_max_age=600
    )
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["NAME"], db["USER"], db["PASSWORD"], db["HOST"], db["PORT"]) == (
        "ccs", "u", "p@ss", "db.local", "6543",
    )  # fmt: skip
    assert db["CONN_MAX_AGE"] == 600
    assert db["OPTIONS"] == {"sslmode": "require", "connect_timeout": "10"}


def test_prepare_threshold_turns_on_server_side_binding_and_off_keeps_djangos_default(
    monkeypatch,
):
    url = "postgres://u@h/ccs"
    db = database_from_url("DATABASE_URL", url, conn_max_age=0, prepare_threshold=5)
    assert db["OPTIONS"]["server_side_binding"] is True
    assert db["OPTIONS"]["prepare_threshold"] == 5
    db = database_from_url("DATABASE_URL", url, conn_max_age=0, prepare_threshold=None)
    assert "server_side_binding" not in db["OPTIONS"]
    assert "prepare_threshold" not in db["OPTIONS"]
    monkeypatch.setenv("X_PREP", "off")
    assert env_int_or_off("X_PREP", 5) is None
    monkeypatch.setenv("X_PREP", "2")
    assert env_int_or_off("X_PREP", 5) == 2
    monkeypatch.delenv("X_PREP")
    assert env_int_or_off("X_PREP", 5) == 5
    monkeypatch.setenv("X_PREP", "often")
    with pytest.raises(ImproperlyConfigured, match="X_PREP must be an integer or off"):
        env_int_or_off("X_PREP", 5)


@pytest.mark.services
@pytest.mark.django_db
def test_a_repeated_query_is_planned_once_per_connection_on_postgresql():
    """The configured threshold reaches psycopg: after that many runs the statement is
    prepared on the server (pg_prepared_statements), so PostgreSQL stops re-planning it."""
    need(None if connection.vendor == "postgresql" else "needs PostgreSQL (DATABASE_URL)")
    from django.contrib.auth import get_user_model

    threshold = connection.settings_dict["OPTIONS"].get("prepare_threshold")
    assert threshold is not None, "DB_PREPARE_THRESHOLD is off: nothing is prepared"
    for _ in range(threshold + 1):
        list(get_user_model().objects.filter(username="nobody-here").values_list("pk"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert any('"auth_user"."username" = $1' in text for text in prepared), prepared


@pytest.mark.parametrize(
    "url, message",
    [
        ("mysql://u@h/db", "must be a postgres:// URL"),
        ("postgres://u@h/", "must name a database"),
        ("postgres://u@h:notaport/db", "malformed port"),
    ],
)
def test_malformed_database_url_names_the_variable(url, message):
    with pytest.raises(ImproperlyConfigured, match=message) as info:
        database_from_url("DATABASE_URL", url, conn_max_age=0)
    assert "DATABASE_URL" in str(info.value)


def test_malformed_redis_url_names_the_variable():
    with pytest.raises(ImproperlyConfigured, match="REDIS_URL must be a redis:// URL"):
        redis_url("REDIS_URL", "http://localhost:6379")
    assert redis_url("REDIS_URL", "") is None


def test_settings_module_fails_loudly_on_bad_environment():
    result = run_manage("check", DATABASE_URL="sqlite:///x")
    assert result.returncode != 0
    assert "DATABASE_URL must be a postgres:// URL" in result.stderr


def test_production_mode_requires_secret_key_and_allowed_hosts():
    result = run_manage("check", DEBUG="0", ALLOWED_HOSTS="ccs.example.org", SECRET_KEY="")
    assert result.returncode != 0 and "SECRET_KEY must be set" in result.stderr
    result = run_manage("check", DEBUG="0", SECRET_KEY=GOOD_SECRET)
    assert result.returncode != 0 and "ALLOWED_HOSTS must be set" in result.stderr


def test_check_deploy_reports_nothing_in_production_mode():
    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING",
        DEBUG="0", SECRET_KEY=GOOD_SECRET, ALLOWED_HOSTS="ccs.example.org",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_without_redis_url_tasks_run_eagerly_with_local_memory_cache():
    result = run_manage(
        "shell", "-c",
        "from django.conf import settings as s; "
        "print(s.CELERY_TASK_ALWAYS_EAGER, s.CACHES['default']['BACKEND'], s.SESSION_ENGINE)",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-3:] == [
        "True",
        "django.core.cache.backends.locmem.LocMemCache",
        "django.contrib.sessions.backends.cached_db",
    ]


def test_with_redis_url_cache_and_broker_use_redis():
    result = run_manage(
        "shell", "-c",
        "from django.conf import settings as s; "
        "print(s.CELERY_TASK_ALWAYS_EAGER, s.CACHES['default']['BACKEND'], s.CELERY_BROKER_URL)",
        REDIS_URL="redis://127.0.0.1:6379/3",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-3:] == [
        "False", "ccs_sim.cache.ResilientRedisCache", "redis://127.0.0.1:6379/3",
    ]  # fmt: skip
