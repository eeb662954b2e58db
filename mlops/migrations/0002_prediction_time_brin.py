"""A BRIN index on the prediction time, on PostgreSQL only: predictions arrive roughly in time order, so a block
range index stays tiny (kilobytes for millions of rows) and serves the retention purge's range delete. SQLite (for
``make run``) keeps the ordinary (version, time) index alone."""

from django.db import migrations


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS prediction_time_brin ON mlops_prediction USING brin (predicted_at)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS prediction_time_brin")


class Migration(migrations.Migration):
    dependencies = [("mlops", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
