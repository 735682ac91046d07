"""Faults on the real parts: the test's own redis-server, Celery worker and beat, stopped and
started while candidates submit and the expiry sweep runs. Every finalised attempt ends
scored once the part is back; nothing waits long on a broker that is down.

PostgreSQL is needed (the worker and beat are other processes that must see the test's
committed rows); skipped locally without it, failed in CI (CCS_REQUIRE_SERVICES=1).
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from ccs_sim.celery import app
from common import health
from exams import services as exams_services
from exams.models import Attempt, AttemptState, Response
from scoring.models import AttemptResult
from tests.conftest import PASSWORD, make_user, need
from tests.factories import published_form
from tests.faults import (
    CeleryProcess,
    RedisServer,
    WebServer,
    child_env,
    point_celery_at,
    wait_until,
)

pytestmark = pytest.mark.services

# Well inside the target of every finalised attempt scored within 2 minutes of recovery.
RECOVERY_SECONDS = 120


def _need_parts() -> None:
    need(
        None
        if connection.vendor == "postgresql"
        else "needs PostgreSQL (set DATABASE_URL=postgres://...): the worker is another process"
    )
    need(None if shutil.which("redis-server") else "redis-server is not installed")


def _database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{urllib.parse.quote(s['PASSWORD'])}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def own_redis(tmp_path, eager_celery):
    redis = RedisServer(tmp_path).start()
    saved = (app.conf.broker_url, app.conf.result_backend)
    point_celery_at(app, redis.url)
    yield redis
    redis.stop()
    point_celery_at(app, saved[0])
    app.conf.result_backend = saved[1]


@pytest.fixture
def background(tmp_path, own_redis):
    """Start/stop helpers for a worker and a beat on the test's Redis and database, with
    sweeps every 2 s so that a recovery shows within seconds."""
    env = child_env(
        database_url=_database_url(),
        redis_url=own_redis.url,
        CCS_SCORE_SWEEP_SECONDS="2",
        CCS_EXPIRE_SWEEP_SECONDS="2",
        CCS_HEARTBEAT_SECONDS="2",
        CCS_INPROCESS_BEAT="0",
    )
    processes = {
        "worker": CeleryProcess("worker", env, tmp_path),
        "beat": CeleryProcess("beat", env, tmp_path),
    }
    yield processes
    for process in processes.values():
        process.stop()
    connection.close()


def _candidates(django_user_model, prefix: str, n: int):
    return [make_user(django_user_model, f"{prefix}{i}", "Candidate") for i in range(n)]


def _sitting(form, people, now=None):
    attempts = []
    for person in people:
        attempt = exams_services.attempt_start(form=form, candidate=person, now=now)
        exams_services.response_save(
            attempt=attempt, position=1, choices=["0"], flagged=False, now=now
        )
        attempts.append(attempt)
    return attempts


def _all_scored(attempts) -> bool:
    ids = [a.pk for a in attempts]
    return not Attempt.objects.filter(pk__in=ids, scored_at__isnull=True).exists()


def _diagnose(background) -> str:
    return "\n".join(f"--- {k}\n{p.output()}" for k, p in background.items())


@pytest.mark.django_db(transaction=True)
def test_attempts_finalised_while_redis_is_down_are_all_scored_when_it_returns(
    django_user_model, own_redis, background
):
    _need_parts()
    form = published_form({1: 3}, minutes=60)
    submitting = _sitting(form, _candidates(django_user_model, "s", 4))
    started = timezone.now() - dt.timedelta(hours=2)
    abandoned = _sitting(form, _candidates(django_user_model, "a", 3), now=started)
    background["worker"].start()

    own_redis.stop()
    waited = []
    for attempt in submitting:
        begun = time.monotonic()
        exams_services.attempt_submit(attempt=attempt)  # its scoring hint cannot be sent
        waited.append(time.monotonic() - begun)
    # The expiry sweep finalises too while the broker is down.
    assert exams_services.attempts_expire_overdue() == len(abandoned)
    everyone = submitting + abandoned
    states = set(Attempt.objects.filter(pk__in=[a.pk for a in everyone]).values_list("state"))
    assert states == {(AttemptState.SUBMITTED,), (AttemptState.EXPIRED,)}
    assert not AttemptResult.objects.exists()
    # A guard against hanging on the broker (it was 19 s), not a timing benchmark.
    assert max(waited) < 5, waited

    own_redis.start()
    background["beat"].start()
    assert wait_until(lambda: _all_scored(everyone), seconds=RECOVERY_SECONDS), _diagnose(
        background
    )
    assert AttemptResult.objects.count() == len(everyone)


@pytest.mark.django_db(transaction=True)
def test_queued_scoring_survives_a_broker_restart_and_a_worker_crash(
    django_user_model, own_redis, background
):
    _need_parts()
    form = published_form({1: 3}, minutes=60)
    attempts = _sitting(form, _candidates(django_user_model, "q", 3))
    worker = background["worker"].start()
    assert wait_until(lambda: "ready" in worker.output(), seconds=60), worker.output()
    worker.kill()  # a crash: no chance to finish anything

    for attempt in attempts:
        exams_services.attempt_submit(attempt=attempt)  # hints wait in the queue
    # The broker restarts while they wait: its append-only file keeps them.
    own_redis.restart()
    # No beat: only the surviving messages can score these attempts.
    background["worker"].start()
    assert wait_until(lambda: _all_scored(attempts), seconds=RECOVERY_SECONDS), _diagnose(
        background
    )
    assert AttemptResult.objects.count() == len(attempts)


@pytest.mark.django_db(transaction=True)
def test_healthz_names_the_worker_and_beat_when_they_stop(
    client, django_user_model, own_redis, background, settings
):
    _need_parts()
    settings.CELERY_TASK_ALWAYS_EAGER = False
    health_keys = ("heartbeat", "sweep")
    from django.core.cache import cache

    for name in health_keys:
        cache.delete(f"health:last:{name}")
    body = client.get("/healthz").json()
    assert {"worker", "beat"} <= set(body["down"]), body

    # The marks live in the cache the worker shares with this process only through Redis;
    # the test's cache is local, so it reads the marks the way the worker's tasks write them.
    health.mark("heartbeat")
    health.mark("sweep")
    body = client.get("/healthz").json()
    assert body["checks"]["worker"].startswith("ok") and body["checks"]["beat"].startswith("ok")
    assert body["checks"]["broker"] == "ok"

    own_redis.stop()
    body = client.get("/healthz").json()
    assert "broker" in body["down"]


# --- A database backend terminated during a save ------------------------------------------
def _opener():
    jar = CookieJar()
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar)), jar


def _post(opener, url, data, headers):
    request = urllib.request.Request(
        url, data=urllib.parse.urlencode(data, doseq=True).encode(), headers=headers
    )
    try:
        with opener.open(request, timeout=20) as reply:
            return reply.status, reply.read().decode(), dict(reply.headers)
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode(), dict(err.headers)


@pytest.fixture
def web_server(tmp_path):
    env = child_env(database_url=_database_url(), redis_url="", CCS_INPROCESS_BEAT="0")
    env.pop("REDIS_URL")
    server = WebServer(env, tmp_path)
    yield server
    server.stop()
    connection.close()


@pytest.mark.django_db(transaction=True)
def test_a_save_after_the_database_dropped_its_connection_succeeds_on_retry(
    web_server, django_user_model
):
    _need_parts()
    person = make_user(django_user_model, "pgcand", "Candidate")
    form = published_form({1: 3}, minutes=60)
    attempt = exams_services.attempt_start(form=form, candidate=person)
    base = web_server.start().url
    opener, jar = _opener()
    login = f"{base}/login/"
    opener.open(login, timeout=20).read()
    token = next(c.value for c in jar if c.name == "csrftoken")
    _post(opener, login, {"username": person.username, "password": PASSWORD,
                          "csrfmiddlewaretoken": token}, {"Referer": login})  # fmt: skip
    token = next(c.value for c in jar if c.name == "csrftoken")
    url = base + reverse("exams:save", args=[attempt.pk, 2])
    headers = {"X-CSRFToken": token, "HX-Request": "true", "Referer": base}
    status, body, first = _post(opener, url, {"choice": ["1"]}, headers)
    assert status == 200 and "X-Exam-Saved" in first, (status, body, web_server.output())

    # The server's kept connection is terminated, as a PostgreSQL restart would.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        assert cursor.fetchone()[0] >= 1

    statuses = []
    for _ in range(3):  # the page's retry queue
        status, body, reply_headers = _post(opener, url, {"choice": ["2"]}, headers)
        statuses.append(status)
        if status == 200:
            break
        assert status == 503 and reply_headers.get("Retry-After"), (status, body)
    assert statuses[-1] == 200, (statuses, web_server.output())
    option_ids = attempt.layout[1][2]
    saved = Response.objects.get(attempt=attempt, form_item_id=attempt.layout[1][0])
    assert saved.selection == [option_ids[2]]
