"""Logging predictions and outcomes through the API: JSON lines, CSV, Parquet; bad rows answered row by row."""

import io
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from mlops.models import Outcome, Prediction
from tests import factories
from tests.helpers import early_in_a_minute
from tests.mlops.conftest import churn_frame, scored_lines

pytestmark = pytest.mark.django_db


def url(model, version, what="predictions"):
    return f"/api/v1/models/{model.asset.slug}/versions/{version.version}/{what}/"


def test_a_real_model_s_predictions_are_logged_as_json_lines(in_use, owner):
    model, version = in_use
    body = scored_lines(version, churn_frame(50), timezone.now() - timedelta(hours=1))
    response = factories.api_client(owner).post(url(model, version), body, content_type="application/x-ndjson")
    assert response.status_code == 201, response.content
    assert response.json() == {"accepted": 50, "rejected": []}
    stored = Prediction.objects.get(version=version, prediction_id="r7-0")
    assert set(stored.features) == {"tenure_months", "orders_90d", "segment"} and 0 <= stored.score <= 1


def test_a_batch_with_bad_rows_keeps_the_good_ones_and_gives_a_reason_per_row(in_use, owner):
    model, version = in_use
    now = timezone.now().isoformat()
    good = {"id": "a", "time": now, "features": {"tenure_months": 3, "orders_90d": 1, "segment": "consumer"},
            "prediction": 1, "score": 0.8}  # fmt: skip
    rows = [
        json.dumps(good),
        "{not json",
        json.dumps({**good, "id": "b", "time": "yesterday"}),
        json.dumps({**good, "id": "c", "features": {"colour": "red"}}),
        json.dumps({**good, "id": "a"}),
        json.dumps({**good, "id": "d", "prediction": None, "score": "high"}),
        json.dumps([1, 2]),
    ]
    response = factories.api_client(owner).post(url(model, version), "\n".join(rows),
                                                content_type="application/x-ndjson")  # fmt: skip
    assert response.status_code == 201
    body = response.json()
    assert body["accepted"] == 1
    reasons = {item["row"]: item["reasons"] for item in body["rejected"]}
    assert reasons[2][0].startswith("line 2 is not JSON")
    assert reasons[3] == ["time 'yesterday' is not an ISO 8601 date and time"]
    assert reasons[4][0].startswith("unknown feature colour")
    assert reasons[5] == ["id a appears twice in this batch"]
    assert reasons[6] == ["prediction is missing", "score 'high' is not a number"]
    assert reasons[7] == ["line 7 is not a JSON object"]
    # Sent again, the kept row is refused as already logged; a batch with nothing good is a 400, never a 500.
    again = factories.api_client(owner).post(url(model, version), rows[0], content_type="application/x-ndjson")
    assert again.status_code == 400 and again.json()["rejected"][0]["reasons"] == ["id a is already logged"]
    broken = factories.api_client(owner).post(url(model, version), b"\x00\xff", content_type="text/csv")
    assert broken.status_code == 400 and "detail" in broken.json()


def test_csv_and_parquet_batches_and_late_outcomes(in_use, owner):
    model, version = in_use
    frame = churn_frame(20)
    frame["time"] = timezone.now().isoformat()
    frame["prediction"] = 1
    csv = frame.drop(columns=["churned"]).to_csv(index=False)
    client = factories.api_client(owner)
    assert client.post(url(model, version), csv, content_type="text/csv").json()["accepted"] == 20
    parquet = io.BytesIO()
    second = frame.drop(columns=["churned"]).assign(id=frame["id"] + "-p")
    second.to_parquet(parquet, index=False)
    response = client.post(url(model, version), parquet.getvalue(), content_type="application/vnd.apache.parquet")
    assert response.json() == {"accepted": 20, "rejected": []}
    outcomes = "\n".join(
        json.dumps({"id": row["id"], "value": int(row["churned"])}) for row in frame.to_dict("records")
    )
    outcomes += "\n" + json.dumps({"id": "never-logged", "value": 1})
    response = client.post(url(model, version, "outcomes"), outcomes, content_type="application/x-ndjson")
    assert response.json()["accepted"] == 20
    reason = f"no prediction never-logged is logged for v{version.version}"
    assert response.json()["rejected"] == [{"row": 21, "id": "never-logged", "reasons": [reason]}]
    assert Outcome.objects.filter(model=model).count() == 20


def test_only_the_model_s_owner_team_or_their_token_may_log(in_use, outsider, teammate):
    model, version = in_use
    body = scored_lines(version, churn_frame(5), timezone.now())
    assert factories.api_client(outsider).post(url(model, version), body,
                                               content_type="application/x-ndjson").status_code == 403  # fmt: skip
    assert factories.api_client(teammate).post(url(model, version), body,
                                               content_type="application/x-ndjson").status_code == 201  # fmt: skip
    assert Prediction.objects.count() == 5


def test_prediction_batches_have_a_rate_of_their_own_above_the_api_s(in_use, owner, settings):
    """At the API's general rate a client logging batches of 1,000 would be held to a few thousand rows per
    second: batches are counted in a scope of their own."""
    settings.API_RATE_LIMITS = {"api": "2/min", "predictions": "3/min"}
    model, version = in_use
    client = factories.api_client(owner)
    statuses = []
    with early_in_a_minute():
        for n in range(4):
            body = json.dumps({"id": f"rate-{n}", "time": timezone.now().isoformat(), "prediction": 1,
                               "features": {"tenure_months": 3, "orders_90d": 1, "segment": "consumer"}})  # fmt: skip
            statuses.append(client.post(url(model, version), body, content_type="application/x-ndjson").status_code)
        assert statuses == [201, 201, 201, 429]
        assert client.get(f"/api/v1/models/{model.asset.slug}/monitoring/").status_code == 200  # the API's own count


def test_text_the_database_cannot_store_is_a_reason_for_that_row_not_a_500(in_use, owner):
    model, version = in_use
    when = timezone.now().isoformat()
    good = {"id": "ok-1", "time": when, "prediction": 1,
            "features": {"tenure_months": 3, "orders_90d": 1, "segment": "consumer"}}  # fmt: skip
    lines = [
        json.dumps(good),
        json.dumps({**good, "id": "nul-1", "features": {**good["features"], "segment": "con\u0000sumer"}}),
        f'{{"id": "half-\\ud800", "time": "{when}", "prediction": 1, "features": {{"tenure_months": 3}}}}',
        json.dumps({**good, "id": "ok-2"}),
    ]
    response = factories.api_client(owner).post(url(model, version), "\n".join(lines),
                                                content_type="application/x-ndjson")  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["accepted"] == 2
    assert [(item["row"], "cannot store" in item["reasons"][0]) for item in body["rejected"]] == [(2, True), (3, True)]
    assert sorted(Prediction.objects.values_list("prediction_id", flat=True)) == ["ok-1", "ok-2"]


def test_a_deleted_model_takes_its_predictions_with_it(in_use, owner):
    """The prediction log has no foreign key constraints in the database (ingest speed): Django cascades."""
    model, version = in_use
    body = scored_lines(version, churn_frame(5), timezone.now())
    factories.api_client(owner).post(url(model, version), body, content_type="application/x-ndjson")
    assert Prediction.objects.count() == 5
    model.asset.delete()
    assert not Prediction.objects.exists()


@pytest.mark.parametrize("as_array", [False, True])
def test_values_only_pythons_json_writes_or_postgresql_refuses_are_answered_row_by_row(in_use, owner, as_array):
    """What a Python client's ``json.dumps`` writes (NaN for a missing float, integers beyond 64 bits) is read; text
    PostgreSQL cannot store (NUL, half of a surrogate pair) is refused for its row only. Never a 500."""
    model, version = in_use
    now = timezone.now()
    good = {"id": "ok", "time": now.isoformat(), "features": {"tenure_months": 3, "orders_90d": 1, "segment": "b2c"},
            "prediction": 1, "score": 0.5}  # fmt: skip
    rows = [
        good,
        {**good, "id": "nan", "features": {**good["features"], "orders_90d": float("nan")}, "score": float("nan")},
        {**good, "id": "huge", "features": {**good["features"], "orders_90d": 2**70}},
        {**good, "id": "nul", "features": {**good["features"], "segment": "b2\x00c"}},
        {**good, "id": "half", "features": {**good["features"], "segment": "b2\ud800c"}},
        {**good, "id": "zone", "time": (now - timedelta(hours=1)).astimezone().isoformat()},
    ]
    body = json.dumps(rows) if as_array else "\n".join(json.dumps(row) for row in rows)
    response = factories.api_client(owner).post(url(model, version), body, content_type="application/x-ndjson")
    assert response.status_code == 201, response.content
    assert response.json()["accepted"] == 4
    assert [item["row"] for item in response.json()["rejected"]] == [4, 5]
    stored = {p.prediction_id: p for p in Prediction.objects.filter(version=version)}
    assert stored["nan"].features["orders_90d"] is None and stored["nan"].score is None
    assert stored["huge"].features["orders_90d"] == 2**70
    assert abs(stored["zone"].predicted_at - (now - timedelta(hours=1))) < timedelta(milliseconds=1)
