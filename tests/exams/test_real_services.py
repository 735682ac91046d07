"""Concurrency on PostgreSQL and a real Celery worker on Redis.

Skipped locally when the real part is missing; with CCS_REQUIRE_SERVICES=1 they fail.
"""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.db import connection
from django.utils import timezone

from exams import services
from exams.models import Attempt, AttemptState, Response
from tests.conftest import make_user, need
from tests.factories import published_form

pytestmark = pytest.mark.services


def need_postgres():
    need(
        None
        if connection.vendor == "postgresql"
        else "needs PostgreSQL (set DATABASE_URL=postgres://...): SQLite serialises writers, "
        "so it cannot show a race"
    )


def run_together(target, args_list):
    """Run target(*args) in threads released at the same moment; returns results in order."""
    barrier = threading.Barrier(len(args_list))
    results: list = [None] * len(args_list)
    errors: list = []

    def run(i, args):
        try:
            barrier.wait(timeout=10)
            results[i] = target(*args)
        except Exception as exc:  # reported below with the thread's result
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(args_list)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    return results


@pytest.mark.django_db(transaction=True)
def test_two_tabs_saving_the_same_item_leave_one_row_and_the_last_write_wins(candidate):
    need_postgres()
    form = published_form({1: 2}, minutes=60)
    attempt = services.attempt_start(form=form, candidate=candidate)

    def tab(choice):
        for _ in range(30):
            services.response_save(attempt=attempt, position=1, choices=[choice], flagged=False)
        return True

    assert run_together(tab, [("0",), ("1",)]) == [True, True]
    assert Response.objects.filter(attempt=attempt).count() == 1
    option_ids = attempt.layout[0][2]
    assert Response.objects.get().selection in ([option_ids[0]], [option_ids[1]])
    services.response_save(attempt=attempt, position=1, choices=["2"], flagged=True)
    assert Response.objects.get().selection == [option_ids[2]]


@pytest.mark.django_db(transaction=True)
def test_beat_task_run_twice_at_once_finalises_and_scores_each_attempt_once(
    django_user_model, monkeypatch
):
    need_postgres()
    form = published_form({1: 2}, minutes=60)
    start = timezone.now() - dt.timedelta(hours=2)
    attempts = [
        services.attempt_start(
            form=form, candidate=make_user(django_user_model, f"c{i}", "Candidate"), now=start
        )
        for i in range(12)
    ]
    scored, lock = [], threading.Lock()
    from scoring import services as scoring_services

    real_score = scoring_services.attempt_score

    def counting_score(*, attempt_id, **kwargs):
        with lock:
            scored.append(attempt_id)
        return real_score(attempt_id=attempt_id, **kwargs)

    monkeypatch.setattr(scoring_services, "attempt_score", counting_score)
    from exams.tasks import expire_overdue_attempts

    done = run_together(lambda: expire_overdue_attempts.apply().result, [(), ()])
    assert sum(done) == len(attempts)
    assert sorted(scored) == sorted(a.pk for a in attempts)
    states = set(Attempt.objects.values_list("state", flat=True))
    assert states == {AttemptState.EXPIRED}
    assert not Attempt.objects.filter(scored_at__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
def test_scoring_runs_on_a_real_worker_through_redis(redis_url, eager_celery, candidate):
    from celery.contrib.testing.worker import start_worker
    from celery.signals import task_postrun

    app = eager_celery
    app.conf.task_always_eager = False
    assert app.conf.broker_url.startswith("redis://"), "settings did not pick up REDIS_URL"
    form = published_form({1: 2}, minutes=60)
    attempt = services.attempt_start(form=form, candidate=candidate)
    services.response_save(attempt=attempt, position=1, choices=["1"], flagged=False)

    def close_db(**_):
        # The worker thread's connection would otherwise outlive the test database.
        connection.close()

    task_postrun.connect(close_db, weak=False)
    try:
        app.control.purge()  # messages left by earlier runs against this Redis database
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            services.attempt_submit(attempt=attempt)  # queues scoring on commit
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                attempt.refresh_from_db()
                if attempt.scored_at is not None:
                    break
                time.sleep(0.2)
    finally:
        task_postrun.disconnect(close_db)
    assert attempt.state == AttemptState.SUBMITTED
    assert attempt.scored_at is not None, "the worker never scored the attempt"
    assert attempt.result["max_raw"] == 2
