"""Text search over a million comments: on PostgreSQL a trigram index serves `text__icontains` (Django's
`UPPER(text) LIKE UPPER(%q%)`). Other databases, and a PostgreSQL server without its contrib modules, scan instead."""

from django.db import migrations

CREATE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS inbox_comment_text_trgm ON inbox_comment USING gin (UPPER(text) gin_trgm_ops)",
]
DROP = ["DROP INDEX IF EXISTS inbox_comment_text_trgm"]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
        available = cursor.fetchone() is not None
    if not available:  # a server without PostgreSQL's contrib modules: search works, by scanning
        return
    for sql in CREATE:
        schema_editor.execute(sql)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in DROP:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("inbox", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
