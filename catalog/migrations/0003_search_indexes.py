"""Search indexes that only PostgreSQL has: a GIN index over the weighted tsvector and a trigram index on names.

SQLite (the ``make run`` default) skips them; search there falls back to plain substring matching.
"""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS asset_search_vector_gin ON catalog_asset USING gin (search_vector)",
    "CREATE INDEX IF NOT EXISTS asset_name_trgm ON catalog_asset USING gin (name gin_trgm_ops)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS asset_name_trgm",
    "DROP INDEX IF EXISTS asset_search_vector_gin",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_governance_history_search")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
