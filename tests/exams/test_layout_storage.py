"""An attempt's layout is stored with lz4 where PostgreSQL has it (exams migration 0007):
pglz cost the database about 0.4 ms of CPU on every start's INSERT."""

from __future__ import annotations

import pytest
from django.db import connection

from exams import selectors, services
from exams.models import Attempt
from tests.conftest import need
from tests.factories import published_form

pytestmark = [pytest.mark.services, pytest.mark.django_db]


def _one(sql: str, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def test_a_started_attempts_layout_is_stored_with_lz4_and_reads_back(candidate):
    need(None if connection.vendor == "postgresql" else "needs PostgreSQL (DATABASE_URL)")
    has_lz4 = _one(
        "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
    )
    need(None if has_lz4 else "this PostgreSQL was built without lz4")
    assert (
        _one(
            "SELECT attcompression FROM pg_attribute WHERE attrelid = 'exams_attempt'::regclass"
            " AND attname = 'layout'"
        )
        == "l"
    )
    form = published_form({1: 2})
    attempt = services.attempt_start(form_id=form.pk, candidate=candidate)
    # A full form's layout: 107 items of four options, large enough to be compressed.
    layout = [[i, 1, [4 * i + k for k in range(4)]] for i in range(1, 108)]
    Attempt.objects.filter(pk=attempt.pk).update(layout=layout)
    assert (
        _one("SELECT pg_column_compression(layout) FROM exams_attempt WHERE id = %s", [attempt.pk])
        == "lz4"
    )
    assert selectors.attempt_for_delivery(user=candidate, pk=attempt.pk).layout == layout
