"""common.rows.RowReader: the hot path's plain SELECT gives the instance the ORM gives."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from common.rows import RowReader
from exams import services
from exams.models import Attempt
from tests.factories import bank_case, bank_items, published_form

pytestmark = pytest.mark.django_db

own = RowReader(Attempt, "id = %s AND candidate_id = %s")


@pytest.fixture
def attempt(candidate):
    bank_items(1, 4)
    bank_case([1, 1])
    form = published_form({1: 6}, stock=False, name="Rows")
    return services.attempt_start(form=form, candidate=candidate)


def test_every_field_is_what_the_orm_loads(attempt, candidate):
    Attempt.objects.filter(pk=attempt.pk).update(
        practice_settings={"estimates": [0.25], "note": "ü"}, result={"scaled": 312}
    )
    expected = Attempt.objects.get(pk=attempt.pk)
    with CaptureQueriesContext(connection) as ctx:
        loaded = own.get([attempt.pk, candidate.pk])
    assert len(ctx.captured_queries) == 1
    assert type(loaded) is Attempt
    for field in Attempt._meta.concrete_fields:
        mine, orm = getattr(loaded, field.attname), getattr(expected, field.attname)
        assert mine == orm, field.name
        assert type(mine) is type(orm), field.name
    # JSON decoded, times aware (SQLite returns both as text), the instance saved as loaded
    assert isinstance(loaded.layout, list) and loaded.layout == attempt.layout
    assert loaded.started_at.utcoffset() == dt.timedelta(0)
    assert loaded._state.adding is False and loaded._state.db == "default"


def test_a_row_that_does_not_match_is_none(attempt, other_candidate):
    assert own.get([attempt.pk, other_candidate.pk]) is None
    assert own.get([attempt.pk + 1000, attempt.candidate_id]) is None


def test_an_instance_it_loads_saves_like_any_other(attempt, candidate):
    loaded = own.get([attempt.pk, candidate.pk])
    loaded.current_position = 4
    loaded.save(update_fields=["current_position"])
    attempt.refresh_from_db()
    assert attempt.current_position == 4


def test_an_id_beyond_any_integer_column_is_no_row(attempt, candidate):
    """A URL's <int:pk> takes any digits: the ORM finds nothing, and so does the reader
    (SQLite's driver would raise OverflowError)."""
    assert own.get([10**25, candidate.pk]) is None
    assert own.get([attempt.pk, -(10**25)]) is None
    assert own.get([2**63 - 1, candidate.pk]) is None  # the widest that fits is asked
