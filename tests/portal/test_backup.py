"""Issue 13 item 12: a backup brings everything back. A portal with data (a model with its card and an MLflow model,
an issue with a screenshot, a file dataset) is backed up; its files and MLflow store are deleted; the backup is
restored into a fresh database; a person using the restored portal sees the same pages and downloads the same
screenshot, every table has the same number of rows, and the restored model loads and predicts."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from portal import backups
from registry.services import register_version
from tests import factories
from tests.registry.helpers import model_with_card
from tests.trust.test_issue_views import _form, _png
from trust.models import DataIssue

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def places(settings, tmp_path):
    """The portal's files and MLflow store, under a folder of this test's."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DATA_ROOT = tmp_path / "data"
    settings.MLFLOW_ARTIFACT_ROOT = str(tmp_path / "mlartifacts")
    settings.MLFLOW_TRACKING_URI = f"sqlite:///{tmp_path / 'mlflow.sqlite3'}"
    settings.MLFLOW_BACKEND_STORE_URI = ""
    (tmp_path / "data").mkdir()
    return tmp_path


@pytest.fixture
def fresh_database():
    """The URL of a database of this test's own (not created: the restore creates it), dropped before and after."""
    database = {**connection.settings_dict, "NAME": f"{connection.settings_dict['NAME']}_restored"}

    def drop():
        admin = backups._pg_connect(database, name="postgres")
        admin.autocommit = True
        with closing(admin), admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{database["NAME"]}" WITH (FORCE)')

    drop()
    user = database["USER"] or "postgres"
    password = f":{database['PASSWORD']}" if database["PASSWORD"] else ""
    host = f"{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}"
    yield f"postgres://{user}{password}@{host}/{database['NAME']}"
    drop()


def _log_a_model():
    """A small scikit-learn model logged to MLflow the way training does (its artifacts under MLFLOW_ARTIFACT_ROOT)."""
    import mlflow
    import mlflow.sklearn
    import sklearn
    from sklearn.linear_model import LogisticRegression
    from skops.io import dumps, get_untrusted_types

    mlflow.set_tracking_uri(settings.MLFLOW_TRACKING_URI)
    location = (Path(settings.MLFLOW_ARTIFACT_ROOT) / "churn").resolve().as_uri()
    experiment = mlflow.create_experiment("churn", artifact_location=location)
    fitted = LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
    with mlflow.start_run(experiment_id=experiment) as run:
        info = mlflow.sklearn.log_model(
            fitted, name="model", pip_requirements=[f"scikit-learn=={sklearn.__version__}"],
            skops_trusted_types=get_untrusted_types(data=dumps(fitted)),
        )  # fmt: skip
    return run.info.run_id, info.model_uri


def _portal_with_data(owner, outsider):
    (Path(settings.DATA_ROOT) / "orders.csv").write_text("id,amount\n1,10\n2,20\n")
    orders = factories.dataset("Orders", owner=owner, team=owner.teams.first(), qualified_name="orders.csv").asset
    model, _ = model_with_card(owner)
    run_id, model_uri = _log_a_model()
    register_version(model, created_by=owner, algorithm="Logistic regression", mlflow_run_id=run_id,
                     model_uri=model_uri)  # fmt: skip
    issue = DataIssue.report(orders, by=outsider, attachment=_png(), **_form())
    return model, issue, model_uri


def _what_a_person_sees(environment, owner, model, issue, model_uri):
    finished = subprocess.run(
        [sys.executable, "-m", "tests.portal.backup_reader", owner.username, model.asset.slug, str(issue.uuid),
         model_uri],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr[-3000:]
    return json.loads(finished.stdout.strip().splitlines()[-1])


def _counts(url):
    return backups.table_counts(backups.database_from_url(url))


def test_a_backup_restored_into_a_fresh_database_gives_the_same_portal(places, fresh_database, owner, outsider):
    model, issue, model_uri = _portal_with_data(owner, outsider)
    screenshot = hashlib.sha256(Path(settings.MEDIA_ROOT, issue.attachment.name).read_bytes()).hexdigest()
    before = backups.table_counts(connection.settings_dict)
    assert before["trust_dataissue"] == 1 and before["registry_modelversion"] == 2

    call_command("backup", str(places / "backups"))
    [folder] = (places / "backups").iterdir()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["database"]["tables"] == before
    assert manifest["files"]["media"]["files"] == 1 and manifest["mlflow"]["file"] == "mlflow.sqlite3"

    # The disaster: the portal's files and MLflow's store and artifacts are gone.
    for gone in ("media", "data", "mlartifacts"):
        shutil.rmtree(places / gone)
    (places / "mlflow.sqlite3").unlink()

    url = fresh_database
    call_command("restore", str(folder), database_url=url)

    assert _counts(url) == before
    environment = {
        **os.environ, "DATABASE_URL": url, "DEBUG": "true", "ALLOWED_HOSTS": "testserver",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT), "DATA_ROOT": str(settings.DATA_ROOT),
        "MLFLOW_TRACKING_URI": settings.MLFLOW_TRACKING_URI, "MLFLOW_ARTIFACT_ROOT": settings.MLFLOW_ARTIFACT_ROOT,
    }  # fmt: skip
    seen = _what_a_person_sees(environment, owner, model, issue, model_uri)
    assert seen["model_page"][0] == 200 and "Some text about fairness validation." in seen["model_page"][1]
    assert seen["issue_page"][0] == 200 and "Revenue doubled on 3 November" in seen["issue_page"][1]
    assert seen["attachment"] == [200, screenshot]
    assert seen["predictions"] == [0, 1]
    assert (Path(settings.DATA_ROOT) / "orders.csv").read_text() == "id,amount\n1,10\n2,20\n"


def test_a_restore_never_overwrites_a_database_or_files_unless_told(places, fresh_database, owner):
    factories.dataset("Orders", owner=owner)
    (Path(settings.MEDIA_ROOT) / "issues").mkdir(parents=True)
    (Path(settings.MEDIA_ROOT) / "issues" / "kept.png").write_bytes(b"png")
    call_command("backup", str(places / "backups"))
    [folder] = (places / "backups").iterdir()
    # The portal's own database has tables: refused, and nothing changed.
    with pytest.raises(CommandError, match="has tables already"):
        call_command("restore", str(folder))
    url = fresh_database
    with pytest.raises(CommandError, match="is not empty"):
        call_command("restore", str(folder), database_url=url)
    call_command("restore", str(folder), database_url=url, replace=True)
    aside = [path.name for path in places.iterdir() if path.name.startswith("media.before-restore-")]
    assert len(aside) == 1 and (places / aside[0] / "issues" / "kept.png").exists()
    assert (Path(settings.MEDIA_ROOT) / "issues" / "kept.png").read_bytes() == b"png"
