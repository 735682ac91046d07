"""common.rows: the hot path's plain SELECT gives the instance the ORM gives, and its plain
INSERT writes the row the ORM writes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, models, transaction
from django.db.models import F
from django.db.models.functions import Now
from django.db.models.signals import post_save, pre_save
from django.test.utils import CaptureQueriesContext

from common.rows import RowInserter, RowReader
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


# --- RowInserter --------------------------------------------------------------------------
inserter = RowInserter(Attempt)


def _fields_of(attempt) -> dict:
    return {f.attname: getattr(attempt, f.attname) for f in Attempt._meta.concrete_fields}


def test_an_inserted_row_is_the_row_the_orm_writes(attempt, candidate, other_candidate):
    """The same instance inserted both ways loads back field for field the same (the key
    aside), with the same types: JSON stored as JSON, times as aware times, decimals."""
    now = dt.datetime(2026, 12, 7, 9, 30, tzinfo=dt.UTC)

    def made(user):
        return Attempt(
            candidate=user,
            form=attempt.form,
            mode="exam",
            started_at=now,
            deadline=now + dt.timedelta(hours=4),
            time_multiplier=Decimal("1.50"),
            seed=2**47 + 5,
            layout=[[1, 1, [3, 2]], [2, 2, [9, 8, 7]]],
            practice_settings={"note": "ü", "estimates": [0.5]},
        )

    attempt.state = "submitted"
    attempt.save(update_fields=["state"])  # the fixture's attempt holds the one-per-form slot
    by_orm = made(candidate)
    by_orm.save()
    with CaptureQueriesContext(connection) as ctx:
        mine = inserter.insert(made(other_candidate))
    assert len(ctx.captured_queries) == 1
    assert ctx.captured_queries[0]["sql"].lstrip().upper().startswith("INSERT")
    assert isinstance(mine.pk, int) and mine.pk != by_orm.pk
    assert mine._state.adding is False and mine._state.db == "default"
    loaded, expected = (Attempt.objects.get(pk=a.pk) for a in (mine, by_orm))
    theirs, ours = _fields_of(expected), _fields_of(loaded)
    for name in ("id", "candidate_id"):
        theirs.pop(name), ours.pop(name)
    assert ours == theirs
    assert {k: type(v) for k, v in ours.items()} == {k: type(v) for k, v in theirs.items()}
    assert loaded.layout == [[1, 1, [3, 2]], [2, 2, [9, 8, 7]]]
    assert loaded.candidate_id == other_candidate.pk


def test_insert_fills_the_defaults_as_save_does(attempt, other_candidate):
    mine = inserter.insert(
        Attempt(candidate=other_candidate, form=attempt.form, started_at=attempt.started_at, seed=1)
    )
    loaded = Attempt.objects.get(pk=mine.pk)
    assert loaded.state == "in_progress" and loaded.time_multiplier == Decimal("1.00")
    assert loaded.current_position == Attempt._meta.get_field("current_position").default
    assert loaded.layout == [] and loaded.result == {} and loaded.deadline is None


def test_a_refused_insert_writes_nothing_and_says_why(attempt, candidate):
    """The database's own refusal (the one-in-progress-per-form constraint) comes through
    as the ORM's IntegrityError, and an expression as a value is refused before any SQL."""
    before = Attempt.objects.count()
    with pytest.raises(IntegrityError), transaction.atomic():
        inserter.insert(
            Attempt(candidate=candidate, form=attempt.form, started_at=attempt.started_at, seed=1)
        )
    with pytest.raises(TypeError, match="seed"):
        inserter.insert(
            Attempt(
                candidate=candidate, form=attempt.form, started_at=attempt.started_at, seed=F("id")
            )
        )
    assert Attempt.objects.count() == before


def test_save_signals_are_sent_when_something_listens(attempt, other_candidate):
    heard = []

    def before(sender, instance, **kwargs):
        heard.append(("pre", instance.pk, kwargs["raw"], kwargs["update_fields"]))

    def after(sender, instance, created, **kwargs):
        heard.append(("post", instance.pk, created, kwargs["using"]))

    pre_save.connect(before, sender=Attempt)
    post_save.connect(after, sender=Attempt)
    try:
        mine = inserter.insert(
            Attempt(
                candidate=other_candidate, form=attempt.form, started_at=attempt.started_at, seed=1
            )
        )
    finally:
        pre_save.disconnect(before, sender=Attempt)
        post_save.disconnect(after, sender=Attempt)
    assert heard == [("pre", None, False, None), ("post", mine.pk, True, "default")]


def test_models_it_cannot_insert_faithfully_are_refused_when_made():
    class WithDatabaseDefault(models.Model):  # noqa: DJ008 (never shown)
        made_at = models.DateTimeField(db_default=Now())

        class Meta:
            app_label = "exams"
            managed = False

    with pytest.raises(TypeError, match="made_at"):
        RowInserter(WithDatabaseDefault)
