"""Prepared statements (DB_PREPARE_THRESHOLD) and deployments: the exam's hand-written
statements (the start's read and INSERT, the move's read of the attempt by its columns)
keep running prepared after a migration adds a column, as old workers serve candidates
between the migration and their restart (PostgreSQL re-plans them rather than refusing
them)."""

from __future__ import annotations

import pytest
from django.db import connection

from cohorts import eligibility
from exams import selectors, services
from tests.conftest import make_user, need
from tests.factories import published_form

pytestmark = [pytest.mark.services, pytest.mark.django_db]


def test_start_and_move_reads_survive_a_column_added_under_them(candidate):
    need(None if connection.vendor == "postgresql" else "needs PostgreSQL (DATABASE_URL)")
    threshold = connection.settings_dict["OPTIONS"].get("prepare_threshold")
    assert threshold is not None, "DB_PREPARE_THRESHOLD is off: nothing is prepared"
    form = published_form({1: 2})
    attempt = services.attempt_start(form_id=form.pk, candidate=candidate)
    for _ in range(threshold + 1):
        selectors.attempt_for_delivery(user=candidate, pk=attempt.pk)
        eligibility.start_check(user=candidate, form_id=form.pk)
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = " ".join(row[0] for row in cursor.fetchall())
        assert 'FROM "exams_attempt" WHERE id = $1' in prepared
        assert "AS x_resume" in prepared
        # What a later release's migration might do while this release's workers run
        # (the test's own inserts' deferred checks are settled first, as a commit would).
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE exams_attempt ADD COLUMN later_release integer")
        cursor.execute("ALTER TABLE exams_examform ADD COLUMN later_release integer")
    again = selectors.attempt_for_delivery(user=candidate, pk=attempt.pk)
    assert again.pk == attempt.pk
    check = eligibility.start_check(user=candidate, form_id=form.pk)
    assert check.form.pk == form.pk


def test_the_starts_insert_is_prepared_and_survives_a_column_added_under_it(
    django_user_model,
):
    """A cohort starting at once runs the same INSERT (common.rows.RowInserter): prepared
    after the threshold, and still running once a later release has added a column."""
    need(None if connection.vendor == "postgresql" else "needs PostgreSQL (DATABASE_URL)")
    threshold = connection.settings_dict["OPTIONS"].get("prepare_threshold")
    assert threshold is not None, "DB_PREPARE_THRESHOLD is off: nothing is prepared"
    form = published_form({1: 2})
    cohort = [
        make_user(django_user_model, f"starter{i}", "Candidate") for i in range(threshold + 3)
    ]
    for person in cohort[: threshold + 1]:
        services.attempt_start(form_id=form.pk, candidate=person)
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = " ".join(row[0] for row in cursor.fetchall())
        assert 'INSERT INTO "exams_attempt"' in prepared
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE exams_attempt ADD COLUMN later_release integer")
    for person in cohort[threshold + 1 :]:
        attempt = services.attempt_start(form_id=form.pk, candidate=person)
        assert selectors.attempt_for_delivery(user=person, pk=attempt.pk).form_id == form.pk
