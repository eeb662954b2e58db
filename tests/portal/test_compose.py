"""There is no Docker engine here: check the compose file's shape and that its commands point at real things."""

import importlib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_the_stack_has_every_production_service_with_a_healthcheck():
    services = COMPOSE["services"]
    assert {"postgres", "redis", "web", "worker", "beat", "mlflow"} <= set(services)
    for name in ("postgres", "redis", "web", "worker", "mlflow"):
        assert "healthcheck" in services[name], name
    assert {"postgres-data", "redis-data", "mlflow-artifacts"} <= set(COMPOSE["volumes"])


def test_each_command_refers_to_something_in_the_project():
    services = COMPOSE["services"]
    web = services["web"]["command"]
    module, attribute = web[1].split(".")
    assert web[0] == "gunicorn"
    assert hasattr(importlib.import_module(f"{module}.{attribute}"), "application")
    for name in ("worker", "beat"):
        command = services[name]["command"]
        assert command[:3] == ["celery", "-A", "portal"]
        assert hasattr(importlib.import_module("portal"), "celery_app")
    assert services["migrate"]["command"][:2] == ["python", "manage.py"]
    assert (ROOT / "manage.py").exists()
    mounted = services["postgres"]["volumes"][1].split(":")[0]
    assert (ROOT / mounted).exists()
    assert services["web"]["build"] == "." and (ROOT / "Dockerfile").exists()


def test_model_artifacts_are_written_where_the_mlflow_server_reads_them_on_a_volume():
    """Issue 13 item 12: training (worker) writes artifacts under MLFLOW_ARTIFACT_ROOT; under compose that path must
    be a volume, mounted at the same path in the MLflow server, which serves it as its artifacts destination."""
    services = COMPOSE["services"]
    root = services["worker"]["environment"]["MLFLOW_ARTIFACT_ROOT"]
    mlflow = services["mlflow"]
    assert mlflow["command"][mlflow["command"].index("--artifacts-destination") + 1] == root
    for name in ("web", "worker", "mlflow"):
        mounts = dict(volume.rsplit(":", 1)[::-1] for volume in services[name]["volumes"])
        assert mounts.get(root) == "mlflow-artifacts", name
    assert "mlflow-artifacts" in COMPOSE["volumes"]
    # The backup command reaches MLflow's store, and the image has pg_dump for it.
    assert services["web"]["environment"]["MLFLOW_BACKEND_STORE_URI"].endswith("@postgres:5432/mlflow")
    assert "postgresql-client" in (ROOT / "Dockerfile").read_text()
