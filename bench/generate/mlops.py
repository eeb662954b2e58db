"""A model after go-live: one model in use with its logged predictions (issue 19's scale rows).

The first model in use gets three features and a reference profile (as training writes them), monitoring settings,
and ``predictions`` rows (10,000,000 at full scale): ``predictions_per_day`` (1,000,000 at full scale) in the last
day before the epoch, the rest spread over the retention window before it, and outcomes for half of the last
day's rows. In the last day ``tenure`` drifts upward for the second half of the rows, so the monitoring job finds
drift on one feature and not on the others. Rows go in with ``COPY``, written as text by numpy and string joins:
formatting ten million JSON documents one by one would take minutes.
"""

from datetime import timedelta

import numpy as np
from django.conf import settings

from mlops.models import ModelOps, Outcome, Prediction
from registry.choices import Stage
from registry.models import ModelVersion

FEATURES = ["tenure", "orders", "segment"]
SEGMENTS = np.array(["consumer", "business", "public"])
CHUNK = 200_000
REFERENCE_ROWS = 5000


def model_in_use(cursor):
    """``(model id, version id)`` of the model whose predictions are generated (the first model in use)."""
    cursor.execute(
        f'SELECT model_id, asset_id FROM "{ModelVersion._meta.db_table}" WHERE stage = %s ORDER BY model_id LIMIT 1',
        [Stage.PRODUCTION],
    )
    return cursor.fetchone()


def _reference_profile(rng):
    import pandas as pd

    from registry.profiles import build_profile

    frame = pd.DataFrame({
        "tenure": rng.integers(1, 73, REFERENCE_ROWS), "orders": rng.integers(0, 13, REFERENCE_ROWS),
        "segment": SEGMENTS[rng.integers(0, 3, REFERENCE_ROWS)],
    })  # fmt: skip
    profile = build_profile(frame, predictions=rng.integers(0, 2, REFERENCE_ROWS).tolist(),
                            scores=rng.random(REFERENCE_ROWS).tolist())  # fmt: skip
    return {**profile, "task": "classification"}


def _copy_text(gen, table, columns, lines):
    import io

    buffer = io.StringIO("\n".join(lines) + "\n")
    gen.cursor.copy_expert(f'COPY "{table}" ({", ".join(columns)}) FROM STDIN', buffer)
    gen.written[table] = gen.written.get(table, 0) + len(lines)


def write_predictions(gen):
    import json

    rng = gen.rng("predictions")
    found = model_in_use(gen.cursor)
    if found is None:
        return
    model_id, version_id = found
    gen.cursor.execute(
        f'UPDATE "{ModelVersion._meta.db_table}" SET features = %s, reference_profile = %s WHERE asset_id = %s',
        [json.dumps(FEATURES), json.dumps(_reference_profile(rng)), version_id],
    )
    gen.copy(ModelOps, ["model_id"], [(model_id,)])
    total, per_day = gen.counts["predictions"], min(gen.counts["predictions_per_day"], gen.counts["predictions"])
    days = max(1, min(settings.PREDICTION_RETENTION_DAYS, 30) - 1)
    first = gen.allocate("predictions", Prediction, total)
    received = gen.epoch.isoformat()
    columns = ["id", "model_id", "version_id", "prediction_id", "predicted_at", "features", "prediction", "score",
               "received_at"]  # fmt: skip
    outcomes = []
    for start in range(0, total, CHUNK):
        count = min(CHUNK, total - start)
        numbers = np.arange(start, start + count)
        in_last_day = numbers < per_day
        # The last day's rows first (numbered 0 … per_day - 1, spread over its seconds, the epoch itself excluded
        # as the monitoring window excludes its end), then the older ones.
        seconds = np.where(
            in_last_day,
            1 + (numbers * 86398) // max(per_day, 1),
            86400 + rng.integers(0, days * 86400, count),
        )
        instants = gen.instants(seconds)
        drifted = in_last_day & (numbers >= per_day // 2)
        tenure = rng.integers(1, 73, count) + np.where(drifted, 30, 0)
        orders = rng.integers(0, 13, count)
        segment = SEGMENTS[rng.integers(0, 3, count)]
        score = rng.random(count)
        prediction = (score > 0.5).astype(int)
        lines = [
            f'{first + n}\t{model_id}\t{version_id}\tp{n}\t{when}\t{{"tenure": {t}, "orders": {o}, "segment": '
            f'"{s}"}}\t{p}\t{sc:.6f}\t{received}'
            for n, when, t, o, s, p, sc in zip(numbers.tolist(), instants, tenure.tolist(), orders.tolist(),
                                               segment.tolist(), prediction.tolist(), score.tolist(), strict=True)
        ]  # fmt: skip
        _copy_text(gen, Prediction._meta.db_table, columns, lines)
        labelled = numbers[in_last_day & (rng.random(count) < 0.5)]
        outcomes.extend((int(n), int(prediction[n - start] ^ (rng.random() < 0.2))) for n in labelled)
    observed = (gen.epoch - timedelta(minutes=1)).isoformat()
    first_outcome = gen.allocate("outcomes", Outcome, len(outcomes))
    _copy_text(
        gen, Outcome._meta.db_table, ["id", "model_id", "prediction_id", "value", "observed_at", "received_at"],
        [f"{first_outcome + k}\t{model_id}\tp{n}\t{value}\t{observed}\t{received}"
         for k, (n, value) in enumerate(outcomes)],
    )  # fmt: skip
