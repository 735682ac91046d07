from __future__ import annotations

import pytest


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
