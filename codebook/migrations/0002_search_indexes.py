"""Word-search indexes, one per database engine.

PostgreSQL: a GIN index on Code.search_vector (filled after each load).
SQLite: an FTS5 table holding each code's words, keyed by the code's row id, with a token
naming its code set. Neither can be declared in Code.Meta, since each exists on one engine.
"""

from django.db import migrations

GIN_INDEX = "codebook_code_search_gin"
FTS_TABLE = "codebook_code_fts"


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {GIN_INDEX} ON codebook_code USING gin (search_vector)"
        )
    elif vendor == "sqlite":
        schema_editor.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} "
            "USING fts5(words, tokenize = 'porter unicode61')"
        )


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {GIN_INDEX}")
    elif vendor == "sqlite":
        schema_editor.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")


class Migration(migrations.Migration):
    dependencies = [("codebook", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
