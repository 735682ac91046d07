from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def eager_celery():
    """Run queued tasks in-process unless a test starts a real worker.

    With REDIS_URL set the project sends tasks to Redis; a test that does not start a
    worker would leave them there unrun.
    """
    from ccs_sim.celery import app

    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield app
    app.conf.task_always_eager = saved


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Finalising queues scoring on commit; a test transaction never commits."""
    return django_capture_on_commit_callbacks


def post_save(client, attempt, position, choices=(), flagged=False, htmx=True, **extra):
    from django.urls import reverse

    data = {"choice": [str(c) for c in choices]}
    if flagged:
        data["flagged"] = "1"
    data.update(extra)
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(reverse("exams:save", args=[attempt.pk, position]), data, **headers)
