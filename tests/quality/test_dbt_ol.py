"""The same dbt project run with dbt-ol (openlineage-dbt), sending its events to the portal's live endpoint with a
Bearer token, as the README tells people to: column lineage and test results arrive as a real pipeline sends them."""

import io

import pytest
from django.core.management import call_command

from accounts.models import ApiToken
from catalog.choices import LineageOrigin
from catalog.models import ColumnLineage, LineageGrant
from quality.choices import CheckOrigin, CheckStatus
from quality.models import CheckResult, QualityCheck
from tests.helpers import ingest_lineage
from tests.quality.conftest import copy_project, dbt_env, run_dbt
from trust.badges import compute_badges
from trust.choices import TrustLevel


@pytest.mark.django_db(transaction=True)
def test_dbt_ol_run_and_test_send_column_lineage_and_assertions(
    dbt_project, dbt_schema, warehouse, live_server, tmp_path
):
    call_command("import_dbt", str(dbt_project / "target"), "--source", warehouse.asset.slug, stdout=io.StringIO())
    _, key = ApiToken.issue(warehouse.asset.owner, "dbt-ol")
    # The datasets belong to the people dbt's meta.owner names: dbt-ol runs as a service account that staff granted
    # the warehouse's namespace (issue 14's OpenLineage rights), as a team would set it up.
    LineageGrant.objects.create(user=warehouse.asset.owner, namespace="postgres://127.0.0.1:5432", note="dbt-ol")
    # The import read column lineage from the compiled SQL already: forget it, so what follows is dbt-ol's.
    ColumnLineage.objects.filter(downstream__dataset__asset__name="customer_orders").delete()
    project = copy_project(tmp_path / "shop")
    env = dbt_env(dbt_schema) | {"OPENLINEAGE_URL": live_server.url, "OPENLINEAGE_API_KEY": key}

    run_dbt(project, env, "run", command="dbt-ol")
    run_dbt(project, env, "test", command="dbt-ol", check=False)

    # The endpoint queued the events (202); record what a worker has not recorded yet (one may be running).
    ingest_lineage()
    # columnLineage: order_count is counted from stg_orders.order_id (a different name).
    link = ColumnLineage.objects.get(downstream__dataset__asset__name="customer_orders", downstream__name="order_count")
    assert (link.upstream.dataset.asset.name, link.upstream.name, link.origin) == (
        "stg_orders",
        "order_id",
        LineageOrigin.OPENLINEAGE,
    )
    # dataQualityAssertions: the dbt-ol run is one more result of the same checks the import declared.
    failing = QualityCheck.objects.get(key="accepted_values_stg_orders_status__placed__shipped__completed")
    assert failing.origin == CheckOrigin.DBT and failing.last_status == CheckStatus.FAIL
    assert set(CheckResult.objects.filter(quality_check=failing).values_list("origin", flat=True)) == {
        CheckOrigin.DBT,
        CheckOrigin.OPENLINEAGE,
    }
    badge = compute_badges([failing.asset])[failing.asset_id]
    assert badge.level == TrustLevel.DO_NOT_USE


@pytest.mark.django_db(transaction=True)
def test_dbt_ol_alone_creates_checks_from_assertions(dbt_project, dbt_schema, warehouse, live_server, tmp_path):
    _, key = ApiToken.issue(warehouse.asset.owner, "dbt-ol")
    # The datasets belong to the people dbt's meta.owner names: dbt-ol runs as a service account that staff granted
    # the warehouse's namespace (issue 14's OpenLineage rights), as a team would set it up.
    LineageGrant.objects.create(user=warehouse.asset.owner, namespace="postgres://127.0.0.1:5432", note="dbt-ol")
    project = copy_project(tmp_path / "shop")
    env = dbt_env(dbt_schema) | {"OPENLINEAGE_URL": live_server.url, "OPENLINEAGE_API_KEY": key}

    run_dbt(project, env, "test", command="dbt-ol", check=False)
    ingest_lineage()

    warning = QualityCheck.objects.get(key="not_null_customer_orders_email")
    assert (warning.origin, warning.column, warning.last_status) == (
        CheckOrigin.OPENLINEAGE,
        "email",
        CheckStatus.WARN,
    )
    assert warning.asset.dataset.source == warehouse
