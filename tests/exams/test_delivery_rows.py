"""A published form's delivery rows are read once per worker: a cohort's starts share them."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from exams import selectors, services
from exams.models import FormItem
from tests.factories import bank_case, bank_items, draft_form, published_form

pytestmark = pytest.mark.django_db


def test_a_published_forms_rows_are_kept_in_the_workers_memory(monkeypatch):
    bank_items(1, 4)
    bank_case([1, 1])
    form = published_form({1: 6}, stock=False, name="Kept")
    first = services.form_delivery_rows(form=form)
    # Neither the database nor the shared cache is asked again.
    monkeypatch.setattr(cache, "get", lambda *a, **k: pytest.fail("asked the shared cache"))
    with CaptureQueriesContext(connection) as ctx:
        again = services.form_delivery_rows(form=form)
    assert ctx.captured_queries == []
    assert again is first
    # In position order, the case's two items with their case, each with its options.
    positions = dict(FormItem.objects.filter(form=form).values_list("pk", "position"))
    assert [positions[row[0]] for row in first] == sorted(positions.values())
    assert sum(row[1] is not None for row in first) == 2
    assert all(len(row[3]) >= 2 for row in first)
    # Shared by every start: nothing in it can be changed in place.
    assert isinstance(first, tuple) and all(isinstance(r[3], tuple) for r in first)
    with pytest.raises(TypeError):
        first[0][3][0] = 1


def test_another_worker_takes_them_from_the_shared_cache(monkeypatch):
    bank_items(1, 6)
    form = published_form({1: 6}, stock=False, name="Shared")
    first = services.form_delivery_rows(form=form)
    selectors.clear_local_cache()  # as a worker that has not read them yet
    with CaptureQueriesContext(connection) as ctx:
        again = services.form_delivery_rows(form=form)
    assert ctx.captured_queries == []
    assert again == first and again is not first


def test_a_draft_forms_rows_are_read_each_time():
    bank_items(1, 8)
    form = draft_form({1: 6}, name="Draft")
    before = services.form_delivery_rows(form=form)
    FormItem.objects.filter(form=form, position=6).delete()
    after = services.form_delivery_rows(form=form)
    assert len(before) == 6 and len(after) == 5
