"""The MLOps benchmark rows: prediction ingest through the API, the monitoring job, the monitoring page.

Runs in-process against a PostgreSQL database it migrates (``MLOPS_BENCH_DATABASE_URL``, default
``postgres://postgres@127.0.0.1:5432/bench_mlops``), through Django's test client (no gunicorn, no network: the
numbers are the portal's own cost). ``BENCH_SCALE=small`` (the default here) measures 20,000 ingested rows and a
monitoring window of 50,000 predictions; ``BENCH_SCALE=full`` measures 200,000 rows and 1,000,000 predictions a
day. Usage: ``.venv/bin/python -m bench.mlops_rows``.
"""

import json
import os
import random
import statistics
import sys
import time
from datetime import timedelta


def setup():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("DEBUG", "true")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
    os.environ["DATABASE_URL"] = os.environ.get(
        "MLOPS_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_mlops"
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def world():
    import pandas as pd
    from django.contrib.auth import get_user_model

    from accounts.models import ApiToken, Team
    from registry.choices import Stage
    from registry.models import ModelVersion
    from registry.profiles import build_profile
    from registry.services import register_model, register_version

    user = get_user_model().objects.filter(username="bench-owner").first()
    if user is None:
        user = get_user_model().objects.create_user("bench-owner", password="x" * 20)
        team = Team.objects.create(name="Bench team", slug="bench-team")
        user.teams.add(team)
    model = register_model(f"Bench model {time.time_ns()}", owner=user, team=user.teams.first())
    rng = random.Random(1)
    reference = pd.DataFrame({"tenure": [rng.randint(1, 72) for _ in range(5000)],
                              "orders": [rng.randint(0, 12) for _ in range(5000)],
                              "segment": [rng.choice(["consumer", "business"]) for _ in range(5000)]})  # fmt: skip
    profile = build_profile(reference, predictions=[rng.randint(0, 1) for _ in range(5000)],
                            scores=[rng.random() for _ in range(5000)])  # fmt: skip
    version = register_version(model, created_by=user, features=["tenure", "orders", "segment"],
                               reference_profile={**profile, "task": "classification"})  # fmt: skip
    ModelVersion.objects.filter(pk=version.pk).update(stage=Stage.PRODUCTION)
    _, key = ApiToken.issue(user, "bench")
    return user, model, version, key


def batch(start, size, now, rng, shift=0):
    lines = []
    for index in range(start, start + size):
        lines.append(json.dumps({
            "id": f"p{index}", "time": (now - timedelta(seconds=rng.randint(60, 80000))).isoformat(),
            "features": {"tenure": rng.randint(1, 72) + shift, "orders": rng.randint(0, 12),
                         "segment": rng.choice(["consumer", "business"])},
            "prediction": rng.randint(0, 1), "score": rng.random(),
        }))  # fmt: skip
    return "\n".join(lines)


def main():
    setup()
    from django.test import Client
    from django.utils import timezone

    from mlops.models import Prediction
    from mlops.monitoring import monitor_model

    full = os.environ.get("BENCH_SCALE", "small") == "full"
    ingest_rows, window_rows = (200_000, 1_000_000) if full else (20_000, 50_000)
    _, model, version, key = world()
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    url = f"/api/v1/models/{model.asset.slug}/versions/{version.version}/predictions/"
    rng, now = random.Random(2), timezone.now()
    bodies = [batch(start, 1000, now, rng) for start in range(0, ingest_rows, 1000)]
    started = time.perf_counter()
    for body in bodies:
        response = client.post(url, body, content_type="application/x-ndjson")
        assert response.status_code == 201 and response.json()["accepted"] == 1000, response.content[:300]
    elapsed = time.perf_counter() - started
    print(f"ingest, batches of 1,000 through the API   rows {ingest_rows:>9,}  {ingest_rows / elapsed:>9,.0f} rows/s  "
          f"target ≥20,000/s {'met' if ingest_rows / elapsed >= 20_000 else 'MISSED'}")  # fmt: skip

    # Fill the window up to ``window_rows`` predictions a day, straight into the table (as ingest would).
    missing = window_rows - ingest_rows
    for start in range(ingest_rows, ingest_rows + missing, 10_000):
        rows = [json.loads(line) for line in batch(start, min(10_000, ingest_rows + missing - start), now, rng,
                                                    shift=20).splitlines()]  # fmt: skip
        Prediction.objects.bulk_create(
            Prediction(model_id=model.pk, version=version, prediction_id=row["id"], predicted_at=row["time"],
                       features=row["features"], prediction=row["prediction"], score=row["score"])
            for row in rows
        )  # fmt: skip
    started = time.perf_counter()
    summary = monitor_model(model, now=now)
    elapsed = time.perf_counter() - started
    print(f"monitoring job, one day of predictions      rows {summary['rows']:>9,}  {elapsed:>9.2f} s       "
          f"target ≤30 s at 1,000,000 ({summary['status']})")  # fmt: skip

    from django.contrib.auth import get_user_model

    page = Client()
    page.force_login(get_user_model().objects.get(username="bench-owner"))
    timings = []
    for _ in range(20):
        started = time.perf_counter()
        assert page.get(f"/mlops/{model.asset.slug}/").status_code == 200
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    p95 = timings[int(0.95 * (len(timings) - 1))]
    stored = Prediction.objects.count()
    print(f"monitoring page                             rows {stored:>9,}  p50 {statistics.median(timings):.1f} ms, "
          f"p95 {p95:.1f} ms  target p95 ≤150 ms at 10,000,000 stored")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
