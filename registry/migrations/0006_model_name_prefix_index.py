"""The models' names by prefix (``/api/v1/models/?name_prefix=churn``, MLflow's ``name LIKE 'churn%'``).

Django's ``istartswith`` compares ``UPPER(name) LIKE UPPER('churn%')``. The trigram index on ``UPPER(name)``
(catalog 0004) answers it, but a trigram lookup of a prefix reads every asset name sharing its trigrams (12 ms at
full scale for "sales-claims", 24 models among 170,000 assets); a btree with ``text_pattern_ops`` reads the prefix
as a range (0.5 ms). Only the models' rows: the other kinds are never searched by prefix. PostgreSQL only, as the
trigram indexes are; SQLite skips it.
"""

from django.db import migrations

FORWARD = (
    "CREATE INDEX IF NOT EXISTS asset_model_name_prefix ON catalog_asset (UPPER(name) text_pattern_ops) "
    "WHERE kind = 'model'"
)
BACKWARD = "DROP INDEX IF EXISTS asset_model_name_prefix"


def _run(statement):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("catalog", "0012_lineage_rights"), ("registry", "0005_version_reference_profile")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
