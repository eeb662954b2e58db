"""Loading MLflow's registry with the portal's models and versions.

Registering 10,000 models and 50,000 versions through MLflow's REST API would take longer than the whole
benchmark, so the rows go straight into the tables MLflow's server created at start-up (``registered_models``,
``model_versions``), with COPY, as MLflow itself would have written them. Creation through the API is measured
separately (the "create model + 5 versions" row).
"""

import io

import psycopg2

# The portal's stages in MLflow's words.
MLFLOW_STAGE = {"development": "None", "staging": "Staging", "production": "Production", "archived": "Archived"}


def _copy(cursor, table, columns, rows):
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(r"\N" if value is None else str(value) for value in row))
        buffer.write("\n")
    buffer.seek(0)
    cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buffer)


def load(portal_url, mlflow_url):
    """Copy every registered model and version of the portal database into MLflow's; returns the counts."""
    with psycopg2.connect(portal_url) as portal, portal.cursor() as cursor:
        cursor.execute(
            "SELECT m.mlflow_name, a.description, (extract(epoch FROM a.created_at) * 1000)::bigint "
            # Models registered in the portal only (the benchmark's own "create" rows, on --reuse) have no MLflow name.
            "FROM registry_registeredmodel m JOIN catalog_asset a ON a.id = m.asset_id WHERE m.mlflow_name <> '' "
            "ORDER BY m.mlflow_name"
        )
        models = cursor.fetchall()
        cursor.execute(
            "SELECT m.mlflow_name, v.version, (extract(epoch FROM v.created_at) * 1000)::bigint, v.stage, "
            "v.mlflow_run_id, v.model_uri FROM registry_modelversion v "
            "JOIN registry_registeredmodel m ON m.asset_id = v.model_id WHERE m.mlflow_name <> '' "
            "ORDER BY m.mlflow_name, v.version"
        )
        versions = cursor.fetchall()
    portal.close()
    with psycopg2.connect(mlflow_url) as store, store.cursor() as cursor:
        _copy(
            cursor,
            "registered_models",
            ["name", "creation_time", "last_updated_time", "description", "workspace"],
            ((name, created, created, description, "default") for name, description, created in models),
        )
        _copy(
            cursor,
            "model_versions",
            [
                "name",
                "version",
                "creation_time",
                "last_updated_time",
                "description",
                "user_id",
                "current_stage",
                "source",
                "run_id",
                "status",
                "status_message",
                "run_link",
                "storage_location",
                "workspace",
            ],
            (
                (
                    name,
                    number,
                    created,
                    created,
                    "",
                    None,
                    MLFLOW_STAGE.get(stage, "None"),
                    uri,
                    run_id,
                    "READY",
                    "",
                    "",
                    uri,
                    "default",
                )
                for name, number, created, stage, run_id, uri in versions
            ),
        )
        cursor.execute("ANALYZE")
    store.close()
    return {"models": len(models), "versions": len(versions)}
