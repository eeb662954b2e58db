"""Indexes measured by `make bench` at 170,000 assets.

Lists and /api/v1/assets/ page by name, the home page shows the recently updated: two btree indexes. Django's
``icontains`` (the list's q filter) compares ``UPPER(column) LIKE UPPER(%s)``: trigram GIN indexes on those
expressions make a substring match an index lookup. Those exist only on PostgreSQL; SQLite skips them.
"""

from django.db import migrations, models

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS asset_name_trigram ON catalog_asset USING gin (UPPER(name) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS asset_description_trigram ON catalog_asset USING gin (UPPER(description) gin_trgm_ops)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS asset_description_trigram",
    "DROP INDEX IF EXISTS asset_name_trigram",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("catalog", "0003_search_indexes")]

    operations = [
        migrations.AddIndex(model_name="asset", index=models.Index(fields=["name", "id"], name="asset_by_name")),
        migrations.AddIndex(
            model_name="asset", index=models.Index(fields=["-updated_at"], name="asset_recently_updated")
        ),
        migrations.RunPython(_run(FORWARD), _run(BACKWARD)),
    ]
