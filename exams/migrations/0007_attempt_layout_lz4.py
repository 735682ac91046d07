"""An attempt's layout (~9 kB of jsonb for 107 items) is compressed when stored, once per
start. PostgreSQL's default compressor (pglz) spent about 0.4 ms of the database's CPU on
each start's INSERT; lz4 does the same in a fraction of it and decompresses faster on every
move's read. Only the column's setting changes: rows already stored stay as they are and
are read either way. Skipped where there is no lz4 (a PostgreSQL built without it, SQLite).
"""

from django.db import migrations

LZ4_AVAILABLE = (
    "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
)


def _set_compression(method: str):
    def run(apps, schema_editor):
        connection = schema_editor.connection
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            cursor.execute(LZ4_AVAILABLE)
            row = cursor.fetchone()
            if not (row and row[0]):
                return
        schema_editor.execute(
            f"ALTER TABLE exams_attempt ALTER COLUMN layout SET COMPRESSION {method}"
        )

    return run


class Migration(migrations.Migration):
    dependencies = [("exams", "0006_retake_forms_and_assigned_form")]

    operations = [
        migrations.RunPython(_set_compression("lz4"), _set_compression("default"), elidable=False)
    ]
