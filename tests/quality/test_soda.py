"""Soda runs a real scan (SodaCL checks, one passing, one failing) on a real table (the shop's stg_orders, built by
dbt) with the soda CLI, and the results file it writes is accepted through the API, exactly as the README shows."""

import json
import subprocess

import pytest
from django.db import connection

from accounts.models import ApiToken
from quality.choices import CheckOrigin, CheckStatus
from quality.models import CheckResult, QualityCheck
from tests import factories
from tests.quality.conftest import BIN

pytestmark = pytest.mark.django_db
CHECKS = """checks for stg_orders:
  - missing_count(order_id) = 0
  - invalid_count(status) = 0:
      valid values: [placed, shipped, completed]
"""


def soda_scan(schema, folder):
    """``soda scan -d warehouse -c configuration.yml -srf results.json checks.yml`` in ``folder``; the results."""
    settings = connection.settings_dict
    folder.mkdir(exist_ok=True)
    (folder / "configuration.yml").write_text(
        "data_source warehouse:\n  type: postgres\n"
        f"  host: {settings.get('HOST') or '127.0.0.1'}\n  port: {settings.get('PORT') or 5432}\n"
        f'  username: {settings["USER"]}\n  password: "{settings.get("PASSWORD") or ""}"\n'
        f"  database: {settings['NAME']}\n  schema: {schema}\n"
    )
    (folder / "checks.yml").write_text(CHECKS)
    done = subprocess.run(
        [str(BIN / "soda"), "scan", "-d", "warehouse", "-c", "configuration.yml", "-srf", "results.json", "checks.yml"],
        cwd=folder, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr  # 2: a check failed
    return json.loads((folder / "results.json").read_text())


def _post(client, dataset, result, key=None, **headers):
    if key:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    return client.post(
        "/api/v1/integrations/soda/", {"dataset": str(dataset.uuid), "result": result},
        content_type="application/json", **headers,
    )  # fmt: skip


def test_a_real_scan_becomes_checks_with_a_history(dbt_project, dbt_schema, client, tmp_path):
    owner = factories.user("owner")
    orders = factories.dataset("stg_orders", owner=owner).asset
    _, key = ApiToken.issue(owner, "soda")

    first = soda_scan(dbt_schema, tmp_path / "first")
    response = _post(client, orders, first, key)

    assert response.status_code == 200, response.content
    assert response.json() == {"checks": 2, "results": 2}
    status = QualityCheck.objects.get(asset=orders, column="status")
    assert (status.check_type, status.origin, status.severity) == ("invalid_count", CheckOrigin.SODA, "error")
    assert status.last_status == CheckStatus.FAIL and status.last_failures == 1
    assert "valid values" in status.sql
    assert QualityCheck.objects.get(asset=orders, column="order_id").last_status == CheckStatus.PASS
    # The same results sent again are the same scan; a second scan is one more result of each check.
    _post(client, orders, first, key)
    assert CheckResult.objects.filter(quality_check__asset=orders).count() == 2
    assert _post(client, orders, soda_scan(dbt_schema, tmp_path / "second"), key).status_code == 200
    assert CheckResult.objects.filter(quality_check=status).count() == 2

    client.force_login(owner)
    page = client.get(f"/quality/dataset/{orders.slug}/").content.decode()
    assert "1 failing check:" in page and "invalid_count(status) = 0" in page and "Soda" in page


def test_someone_who_may_not_change_the_dataset_is_refused(client):
    orders = factories.dataset("stg_orders", owner=factories.user("owner")).asset
    client.force_login(factories.user("mallory"))
    scan = {"checks": [{"name": "row_count > 0", "table": "stg_orders", "outcome": "pass"}]}

    response = _post(client, orders, scan)

    assert response.status_code == 403
    assert not QualityCheck.objects.exists()


@pytest.mark.parametrize(
    ("result", "reason"),
    [
        ([], "must be a Soda scan result with 'checks'"),
        ({"checks": [{"name": "row_count > 0", "outcome": "exploded"}]}, "checks[0].outcome must be pass, warn"),
        ({"checks": [{"outcome": "pass"}]}, "checks[0] must be an object with a name"),
        ({"checks": [{"name": "row_count > 0", "table": "customers", "outcome": "pass"}]}, "checks table customers"),
        ({"checks": [], "scanEndTimestamp": "soon"}, "ISO 8601"),
        ({"checks": []}, "has no checks"),
    ],
)
def test_a_malformed_result_is_refused_with_the_reason_and_records_nothing(client, result, reason):
    owner = factories.user("owner")
    orders = factories.dataset("stg_orders", owner=owner).asset
    client.force_login(owner)

    response = _post(client, orders, result)

    assert response.status_code == 400 and reason in response.json()["detail"]
    assert not QualityCheck.objects.exists()


def test_a_body_that_is_not_an_object_is_refused_with_a_400(client):
    client.force_login(factories.user("owner"))
    response = client.post("/api/v1/integrations/soda/", "[]", content_type="application/json")
    assert response.status_code == 400 and "dataset" in response.json()["errors"]
