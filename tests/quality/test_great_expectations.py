"""Great Expectations runs a real suite on a real table (the shop's stg_orders, built by dbt) and its validation
result is accepted through the API, exactly as the README shows."""

import pytest
from django.db import connection

from accounts.models import ApiToken
from quality.choices import CheckOrigin, CheckStatus
from quality.models import CheckResult, QualityCheck
from tests import factories

pytestmark = pytest.mark.django_db


def validate_orders(schema):
    import great_expectations as gx

    settings = connection.settings_dict
    server = f"{settings.get('HOST') or '127.0.0.1'}:{settings.get('PORT') or 5432}"
    url = f"postgresql+psycopg2://{settings['USER']}@{server}/{settings['NAME']}"
    context = gx.get_context(mode="ephemeral")
    source = context.data_sources.add_postgres(name="warehouse", connection_string=url)
    table = source.add_table_asset(name="stg_orders", table_name="stg_orders", schema_name=schema)
    suite = context.suites.add(gx.ExpectationSuite(name="orders"))
    suite.add_expectation(gx.expectations.ExpectColumnValuesToNotBeNull(column="order_id"))
    suite.add_expectation(
        gx.expectations.ExpectColumnValuesToBeInSet(column="status", value_set=["placed", "shipped", "completed"])
    )
    validation = context.validation_definitions.add(
        gx.ValidationDefinition(name="orders", data=table.add_batch_definition_whole_table("all"), suite=suite)
    )
    return validation.run().to_json_dict()


def test_a_real_validation_result_becomes_checks_and_results(dbt_project, dbt_schema, client):
    owner = factories.user("owner")
    orders = factories.dataset("stg_orders", owner=owner)
    _, key = ApiToken.issue(owner, "great expectations")
    result = validate_orders(dbt_schema)

    response = client.post(
        "/api/v1/integrations/great-expectations/",
        {"dataset": str(orders.asset.uuid), "result": result},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )

    assert response.status_code == 200, response.content
    assert response.json() == {"checks": 2, "results": 2}
    in_set = QualityCheck.objects.get(asset=orders.asset, column="status")
    assert (in_set.check_type, in_set.origin) == ("expect_column_values_to_be_in_set", CheckOrigin.GREAT_EXPECTATIONS)
    assert in_set.last_status == CheckStatus.FAIL and in_set.last_failures == 1
    assert QualityCheck.objects.get(asset=orders.asset, column="order_id").last_status == CheckStatus.PASS
    # The same validation sent again is the same run: nothing is added.
    client.post(
        "/api/v1/integrations/great-expectations/",
        {"dataset": str(orders.asset.uuid), "result": result},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert CheckResult.objects.filter(quality_check__asset=orders.asset).count() == 2


def test_a_result_that_is_not_a_validation_is_refused_and_records_nothing(client):
    owner = factories.user("owner")
    orders = factories.dataset("orders", owner=owner)
    client.force_login(owner)

    response = client.post(
        "/api/v1/integrations/great-expectations/",
        {"dataset": str(orders.asset.uuid), "result": {"results": [{"success": "yes"}]}},
        content_type="application/json",
    )
    bad_uuid = client.post(
        "/api/v1/integrations/great-expectations/", {"dataset": "nope", "result": {}}, content_type="application/json"
    )

    assert response.status_code == 400 and "results[0] must be an object with success" in response.json()["detail"]
    assert bad_uuid.status_code == 400
    assert not QualityCheck.objects.exists()
