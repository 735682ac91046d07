"""One model row by a plain SELECT or INSERT, for the few statements on the exam's hot path
where the ORM's work around a query costs more than the query.

`Model.objects.get()` builds its SQL on every call, and `raw()` maps the cursor's columns
to fields on every call; an exam move paid about 0.35 ms of CPU for that around a read
whose own cost was under 0.1 ms. A RowReader builds its statement once, so PostgreSQL can
prepare it (DB_PREPARE_THRESHOLD), and turns the row into a model instance as the ORM
does: each column through its field's database converters, then `Model.from_db`.

A RowInserter does the same for the start of an exam, where a whole cohort inserts its
attempts at once: `objects.create()` compiled its INSERT on every call, 0.1–0.25 ms of
CPU. It writes what `save()` would (each field's `pre_save` and `get_db_prep_save`) and
sends the model's pre_save and post_save signals when anything listens to them.
"""

from __future__ import annotations

import weakref
from typing import Generic, TypeVar

from django.db import connections
from django.db.models import NOT_PROVIDED, Model, signals

M = TypeVar("M", bound=Model)


# The widest integer column (bigint). A URL's <int:...> takes any run of digits; the ORM
# answers "no such row" for a number beyond this, and so must a plain statement (SQLite's
# driver raises OverflowError on it).
BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1


def fits_bigint(*values) -> bool:
    """Whether every int among `values` fits a bigint column (non-ints are not asked)."""
    return all(BIGINT_MIN <= v <= BIGINT_MAX for v in values if isinstance(v, int))


class _PerConnection(Generic[M]):
    """A statement and what goes with it, built once per connection (one per thread)."""

    def __init__(self, model: type[M]):
        self.model = model
        self._prepared: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def _for(self, connection):
        prepared = self._prepared.get(connection)
        if prepared is None:
            prepared = self._prepared[connection] = self._build(connection)
        return prepared

    def _build(self, connection):
        raise NotImplementedError


class RowReader(_PerConnection[M]):
    """`RowReader(Attempt, "id = %s AND candidate_id = %s").get([pk, user_id])`: the
    instance with every concrete field loaded, or None. `where` is SQL over the table's
    own columns, with %s placeholders for the parameters."""

    def __init__(self, model: type[M], where: str):
        super().__init__(model)
        self.where = where
        self._fields = list(model._meta.concrete_fields)
        self._attnames = [f.attname for f in self._fields]

    def _build(self, connection) -> tuple[str, list]:
        # The SQL and, for each column that needs it, the converters the ORM would apply
        # (JSON decoding; SQLite's dates and decimals).
        quote = connection.ops.quote_name
        table = self.model._meta.db_table
        columns = ", ".join(quote(f.column) for f in self._fields)
        sql = f"SELECT {columns} FROM {quote(table)} WHERE {self.where}"
        converters = []
        for index, field in enumerate(self._fields):
            column = field.get_col(table)
            found = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
            if found:
                converters.append((index, column, found))
        return sql, converters

    def get(self, params: list, *, using: str = "default") -> M | None:
        if not fits_bigint(*params):
            return None  # no row has such an id
        connection = connections[using]
        sql, converters = self._for(connection)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        if row is None:
            return None
        values = list(row)
        for index, column, functions in converters:
            value = values[index]
            for convert in functions:
                value = convert(value, column, connection)
            values[index] = value
        return self.model.from_db(using, self._attnames, values)


class RowInserter(_PerConnection[M]):
    """`RowInserter(Attempt).insert(Attempt(...))`: one INSERT of every concrete column but
    an auto-incremented key; sets the instance's key and state as `save()` does and returns
    it. For plain fields only: a field with its own placeholder (geometry) or a database
    default is refused when the inserter is made, an expression as a value when inserting.
    """

    def __init__(self, model: type[M]):
        super().__init__(model)
        meta = model._meta
        self._pk = meta.pk
        self._fields = [f for f in meta.concrete_fields if not (f.primary_key and f.db_returning)]
        # The database makes the key (an auto field): it is read back after the INSERT.
        self._key_from_database = self._pk not in self._fields
        refused = [
            f.name
            for f in self._fields
            if hasattr(f, "get_placeholder") or f.db_default is not NOT_PROVIDED
        ]
        if refused or meta.parents:
            raise TypeError(f"RowInserter cannot insert {model.__name__}: {refused or 'parents'}")

    def _build(self, connection) -> tuple[str, bool, list]:
        # The SQL, whether it returns the new key, and the converters the ORM applies to it.
        quote = connection.ops.quote_name
        table = self.model._meta.db_table
        columns = ", ".join(quote(f.column) for f in self._fields)
        values = ", ".join(["%s"] * len(self._fields))
        sql = f"INSERT INTO {quote(table)} ({columns}) VALUES ({values})"
        returning = self._key_from_database and bool(
            connection.features.can_return_columns_from_insert
        )
        if returning:
            sql += f" RETURNING {quote(self._pk.column)}"
        column = self._pk.get_col(table)
        converters = [
            (column, convert)
            for convert in connection.ops.get_db_converters(column)
            + self._pk.get_db_converters(connection)
        ]
        return sql, returning, converters

    def insert(self, instance: M, *, using: str = "default") -> M:
        model = self.model
        connection = connections[using]
        if signals.pre_save.has_listeners(model):
            signals.pre_save.send(
                sender=model, instance=instance, raw=False, using=using, update_fields=None
            )
        params = []
        for field in self._fields:
            value = field.pre_save(instance, add=True)
            if hasattr(value, "resolve_expression"):
                raise TypeError(f"RowInserter takes values, not expressions ({field.name})")
            params.append(field.get_db_prep_save(value, connection=connection))
        sql, returning, converters = self._for(connection)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            if self._key_from_database:
                key = (
                    cursor.fetchone()[0]
                    if returning
                    else connection.ops.last_insert_id(
                        cursor, model._meta.db_table, self._pk.column
                    )
                )
                for column, convert in converters:
                    key = convert(key, column, connection)
                setattr(instance, self._pk.attname, key)
        instance._state.adding = False
        instance._state.db = using
        if signals.post_save.has_listeners(model):
            signals.post_save.send(
                sender=model,
                instance=instance,
                created=True,
                update_fields=None,
                raw=False,
                using=using,
            )
        return instance
