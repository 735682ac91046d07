"""One model row by a plain SELECT, for the few reads on the exam's hot path where the
ORM's work around a query costs more than the query.

`Model.objects.get()` builds its SQL on every call, and `raw()` maps the cursor's columns
to fields on every call; an exam move paid about 0.35 ms of CPU for that around a read
whose own cost was under 0.1 ms. A RowReader builds its statement once, so PostgreSQL can
prepare it (DB_PREPARE_THRESHOLD), and turns the row into a model instance as the ORM
does: each column through its field's database converters, then `Model.from_db`.
"""

from __future__ import annotations

import weakref
from typing import Generic, TypeVar

from django.db import connections
from django.db.models import Model

M = TypeVar("M", bound=Model)


# The widest integer column (bigint). A URL's <int:...> takes any run of digits; the ORM
# answers "no such row" for a number beyond this, and so must a plain statement (SQLite's
# driver raises OverflowError on it).
BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1


def fits_bigint(*values) -> bool:
    """Whether every int among `values` fits a bigint column (non-ints are not asked)."""
    return all(BIGINT_MIN <= v <= BIGINT_MAX for v in values if isinstance(v, int))


class RowReader(Generic[M]):
    """`RowReader(Attempt, "id = %s AND candidate_id = %s").get([pk, user_id])`: the
    instance with every concrete field loaded, or None. `where` is SQL over the table's
    own columns, with %s placeholders for the parameters."""

    def __init__(self, model: type[M], where: str):
        self.model = model
        self.where = where
        self._fields = list(model._meta.concrete_fields)
        self._attnames = [f.attname for f in self._fields]
        # Per connection (one per thread): its SQL and, for each column that needs it, the
        # converters the ORM would apply (JSON decoding; SQLite's dates and decimals).
        self._prepared: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def _for(self, connection) -> tuple[str, list]:
        prepared = self._prepared.get(connection)
        if prepared is None:
            quote = connection.ops.quote_name
            table = self.model._meta.db_table
            columns = ", ".join(quote(f.column) for f in self._fields)
            sql = f"SELECT {columns} FROM {quote(table)} WHERE {self.where}"
            converters = []
            for index, field in enumerate(self._fields):
                column = field.get_col(table)
                found = connection.ops.get_db_converters(column) + field.get_db_converters(
                    connection
                )
                if found:
                    converters.append((index, column, found))
            prepared = self._prepared[connection] = (sql, converters)
        return prepared

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
