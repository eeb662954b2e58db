"""Taking in logged predictions and outcomes, in batches: JSON lines, CSV or Parquet.

Each row is checked on its own; the good rows are kept and each bad one comes back with its reasons, so a client
fixes and resends only those. A body that cannot be read at all is one ``BatchUnreadable`` with the reason.

A prediction row: ``id``, ``time`` (ISO 8601; without a zone it is UTC), ``features`` (an object in JSON lines; in
CSV and Parquet every other column is a feature), ``prediction`` and optionally ``score`` (a number). An outcome
row: ``id`` (of the prediction) and ``value`` (the true value), optionally ``time`` (when it was observed).
"""

import io
import json
import math
from datetime import UTC, datetime, timedelta

import orjson
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from mlops.models import Outcome, Prediction

RESERVED = {"id", "time", "prediction", "score", "features"}
JSON_TYPES = ("application/x-ndjson", "application/jsonl", "application/x-jsonlines", "application/json")
CSV_TYPES = ("text/csv", "application/csv")
PARQUET_TYPES = ("application/vnd.apache.parquet", "application/parquet", "application/x-parquet")


class BatchUnreadable(ValueError):
    """The whole body could not be read as the format it claims; the message says why."""


def _records_from_frame(frame, kind):
    import pandas as pd

    records = []
    feature_columns = [name for name in frame.columns if name not in RESERVED and name != "value"]
    frame = frame.astype(object).where(pd.notna(frame), None)
    for row in frame.to_dict("records"):
        record = {key: row[key] for key in ("id", "time", "prediction", "score", "value") if key in row}
        if kind == "predictions":
            record["features"] = {name: row[name] for name in feature_columns}
        records.append(record)
    return records


def read_batch(body, content_type, kind="predictions"):
    """The rows of a batch body as a list of dicts, by content type (JSON lines when none is given)."""
    content_type = (content_type or "").split(";")[0].strip().lower()
    if content_type in CSV_TYPES or content_type in PARQUET_TYPES:
        return _read_table(body, content_type, kind)
    if content_type and content_type not in JSON_TYPES:
        raise BatchUnreadable(
            f"Send JSON lines (application/x-ndjson), CSV (text/csv) or Parquet (application/vnd.apache.parquet), "
            f"not {content_type}."
        )
    return _read_json(body)


def _read_table(body, content_type, kind):
    import pandas as pd

    try:
        if content_type in CSV_TYPES:
            frame = pd.read_csv(io.BytesIO(body), dtype={"id": str})
        else:
            frame = pd.read_parquet(io.BytesIO(body))
    except Exception as exc:  # pandas and pyarrow raise many types for a bad file; the client needs the message
        raise BatchUnreadable(f"The body is not readable as {content_type}: {exc}") from None
    if "id" not in frame.columns:
        raise BatchUnreadable("The batch has no id column.")
    return _records_from_frame(frame, kind)


def _read_json(body):
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BatchUnreadable("The body is not UTF-8 text.") from None
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            rows = _loads(text)
        except ValueError as exc:
            raise BatchUnreadable(f"The body is not a JSON array: {exc}") from None
        return [row if isinstance(row, dict) else {"_invalid": "not a JSON object"} for row in rows]
    lines = text.splitlines()
    try:  # the usual case, every line good: one parse instead of a thousand
        rows = _loads("[" + ",".join(line for line in lines if line.strip()) + "]")
        if all(isinstance(row, dict) for row in rows):
            return rows
    except ValueError:
        pass
    rows = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            row = {"_invalid": f"line {number} is not JSON ({exc.msg})"}
        rows.append(row if isinstance(row, dict) else {"_invalid": f"line {number} is not a JSON object"})
    return rows


def _loads(text):
    """``json.loads``, by orjson (in C, three times as fast on a batch) unless the text holds what only Python's
    parser takes: NaN or Infinity, which Python's own ``json.dumps`` writes for a missing float."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _scalar(value):
    return value is None or isinstance(value, str | bool | int) or (isinstance(value, float) and math.isfinite(value))


def _clean_value(value):
    """A JSON-safe scalar (numpy and pandas values become Python ones); NaN becomes None."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _time(value, reasons, field="time", latest=None):
    """The aware datetime of ``value`` (ISO 8601 text or a datetime; naive is UTC), None with a reason otherwise.
    ``latest``: the latest time accepted (a day ahead of now), computed once per batch by the caller."""
    if value is None or value == "":
        reasons.append(f"{field} is missing")
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(value if type(value) is str else str(value))
        except ValueError:
            reasons.append(f"{field} {str(value)[:40]!r} is not an ISO 8601 date and time")
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if moment > (latest or timezone.now() + timedelta(days=1)):
        reasons.append(f"{field} {moment.isoformat()} is in the future")
        return None
    return moment


def _id(row, reasons, seen):
    value = row.get("id")
    if type(value) is not str:  # a number, a numpy value, or nothing
        value = None if value is None else str(_clean_value(value))
    value = value.strip() if value is not None else ""
    if not value:
        reasons.append("id is missing")
        return None
    if len(value) > 100:
        reasons.append("id is longer than 100 characters")
        return None
    if value in seen:
        reasons.append(f"id {value} appears twice in this batch")
        return None
    seen.add(value)
    return value


def _too_many(rows):
    limit = settings.PREDICTION_BATCH_MAX_ROWS
    if len(rows) > limit:
        raise BatchUnreadable(f"The batch has {len(rows)} rows; send at most {limit} per request.")


def log_predictions(version, rows):
    """Store the good rows of a prediction batch for ``version``; returns ``(accepted, rejected)``, ``rejected``
    being ``[{"row": n, "id": …, "reasons": […]}]`` (rows count from 1)."""
    _too_many(rows)
    known = frozenset(version.features or [])
    latest = timezone.now() + timedelta(days=1)
    checked, rejected, seen = [], [], set()
    for number, row in enumerate(rows, start=1):
        if "_invalid" in row:
            rejected.append({"row": number, "id": None, "reasons": [row["_invalid"]]})
            continue
        reasons = []
        item = _check_prediction(row, known, reasons, seen, latest)
        if reasons:
            rejected.append({"row": number, "id": item[0], "reasons": reasons})
        else:
            checked.append((number, *item))
    rows_checked = [item[0] for item in checked]
    now = timezone.now()
    if connection.vendor == "postgresql":
        stored, checked = _copy_predictions(version, checked, now)
    else:
        checked = [item for item in checked if not _unstorable(item)]
        stored = _insert_predictions(version, checked, now)
    for number in unstorable_rows(checked, rows_checked):
        reason = "holds a character the database cannot store (NUL, or half of a surrogate pair)"
        rejected.append({"row": number, "id": None, "reasons": [reason]})
    for number, prediction_id, *_ in checked:
        if prediction_id not in stored:
            rejected.append({"row": number, "id": prediction_id, "reasons": [f"id {prediction_id} is already logged"]})
    rejected.sort(key=lambda item: item["row"])
    return len(stored), rejected


def _insert_predictions(version, checked, now):
    """The portable path (SQLite for ``make run``): the ids already logged are skipped; returns the ids stored."""
    already = set(
        Prediction.objects.filter(version=version, prediction_id__in=[item[1] for item in checked]).values_list(
            "prediction_id", flat=True
        )
    )
    fresh = [
        Prediction(model_id=version.model_id, version=version, prediction_id=prediction_id, predicted_at=moment,
                   features=features, prediction=prediction, score=score, received_at=now)
        for _, prediction_id, moment, features, prediction, score in checked
        if prediction_id not in already
    ]  # fmt: skip
    # ignore_conflicts: a concurrent batch with the same ids wins the race; its rows are the ones kept.
    Prediction.objects.bulk_create(fresh, ignore_conflicts=True, batch_size=1000)
    return {row.prediction_id for row in fresh}


def _texts(value):
    if type(value) is str:
        yield value
    elif type(value) is dict:
        for key, item in value.items():
            yield key
            yield from _texts(item)


def _unstorable(item):
    """Whether a checked row holds text PostgreSQL refuses (NUL in text or JSON, a lone surrogate)."""
    _, prediction_id, _, features, prediction, _ = item
    for text in (prediction_id, *_texts(features), *_texts(prediction)):
        if "\x00" in text:
            return True
        try:
            text.encode()
        except UnicodeEncodeError:
            return True
    return False


def unstorable_rows(kept, numbers):
    """The row numbers among ``numbers`` that ``kept`` (the rows stored or tried) left out as unstorable."""
    left = {item[0] for item in kept}
    return [number for number in numbers if number not in left]


def _document(checked):
    rows = [
        {"i": prediction_id, "t": moment, "f": features, "p": prediction, "s": score}
        for _, prediction_id, moment, features, prediction, score in checked
    ]
    try:  # orjson writes a time as RFC 3339, which PostgreSQL reads
        return orjson.dumps(rows).decode()
    except orjson.JSONEncodeError:  # a lone surrogate, or an integer beyond 64 bits: Python's encoder takes them
        for row in rows:
            row["t"] = row["t"].isoformat()
        return json.dumps(rows, ensure_ascii=False, allow_nan=False)


def _copy_predictions(version, checked, now):
    """PostgreSQL: the whole batch as one JSON array parameter, unpacked by the server (``jsonb_to_recordset``)
    into one ``INSERT … ON CONFLICT DO NOTHING RETURNING`` the ids stored (an id already logged, or logged by a
    concurrent batch, is not returned). One statement and one C-encoded document: no per-row escaping in Python,
    no temporary table to create and truncate at each batch (the COPY path that did). Returns ``(ids stored, rows
    tried)``: rows whose text PostgreSQL cannot hold (NUL, a lone surrogate) are left out, found only when the
    document shows one."""
    if not checked:
        return set(), checked
    document = _document(checked)
    try:
        document.encode()
        suspicious = "\\u0000" in document  # how JSON writes NUL, which jsonb refuses
    except UnicodeEncodeError:  # a lone surrogate: UTF-8 cannot carry it
        suspicious = True
    if suspicious:
        checked = [item for item in checked if not _unstorable(item)]
        if not checked:
            return set(), checked
        document = _document(checked)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO mlops_prediction (model_id, version_id, prediction_id, predicted_at, features, prediction, "
            "score, received_at) SELECT %s, %s, r.i, r.t, r.f, r.p, r.s, %s FROM jsonb_to_recordset(%s::jsonb) "
            "AS r(i text, t timestamptz, f jsonb, p jsonb, s double precision) "
            "ON CONFLICT (version_id, prediction_id) DO NOTHING RETURNING prediction_id",
            [version.model_id, version.pk, now, document],
        )
        return {row[0] for row in cursor.fetchall()}, checked


def _check_prediction(row, known, reasons, seen, latest=None):
    """``(id, time, features, prediction, score)`` of one row; what is wrong goes into ``reasons``."""
    prediction_id = _id(row, reasons, seen)
    moment = _time(row.get("time"), reasons, latest=latest)
    features = _features(row.get("features"), known, reasons)
    prediction = row.get("prediction")
    if type(prediction) not in PLAIN:
        prediction = _clean_value(prediction)
    if prediction is None:
        reasons.append("prediction is missing")
    elif not _scalar(prediction):
        reasons.append("prediction must be a number, text or true/false")
    score = row.get("score")
    if type(score) is float:
        score = score if math.isfinite(score) else None  # NaN: no score, as an empty CSV cell
    elif score is not None:
        score = _clean_value(score)
        if score is not None:
            try:
                score = float(score)
                if not math.isfinite(score):
                    raise ValueError
            except (TypeError, ValueError):
                reasons.append(f"score {str(row.get('score'))[:40]!r} is not a number")
    return prediction_id, moment, features, prediction, score


# The types a JSON document's values have: checked by type, they need no cleaning (numpy values from CSV and
# Parquet batches take the slower path through ``_clean_value``).
PLAIN = frozenset({str, int, float, bool, type(None)})


def _features(features, known, reasons):
    if type(features) is not dict:
        if not isinstance(features, dict):
            reasons.append("features must be an object of feature names and values")
            return {}
        features = dict(features)
    plain = all(type(value) in PLAIN and (type(value) is not float or math.isfinite(value)) for value in
                features.values()) and all(type(name) is str for name in features)  # fmt: skip
    # JSON's own values, finite, need no cleaning and are every one a scalar.
    features = dict(features) if plain else {str(name): _clean_value(value) for name, value in features.items()}
    if known and not features.keys() <= known:
        unknown = sorted(features.keys() - known)
        reasons.append(
            f"unknown feature{'s' * (len(unknown) > 1)} {', '.join(unknown[:5])} (the version uses "
            f"{', '.join(sorted(known))})"
        )
    if not plain:
        bad = sorted(name for name, value in features.items() if not _scalar(value))
        if bad:
            reasons.append(f"feature {', '.join(bad[:5])} must be a number, text, true/false or null")
    for name in known - features.keys():
        features[name] = None  # not sent: counted as missing by monitoring
    return features


def log_outcomes(version, rows):
    """Store the true values of predictions of ``version``'s model, by prediction id; an outcome sent again replaces
    the earlier one. Returns ``(accepted, rejected)`` as ``log_predictions`` does."""
    _too_many(rows)
    checked, rejected, seen = [], [], set()
    for number, row in enumerate(rows, start=1):
        if "_invalid" in row:
            rejected.append({"row": number, "id": None, "reasons": [row["_invalid"]]})
            continue
        reasons = []
        prediction_id = _id(row, reasons, seen)
        value = _clean_value(row.get("value", row.get("outcome")))
        if value is None:
            reasons.append("value (the true outcome) is missing")
        elif not _scalar(value):
            reasons.append("value must be a number, text or true/false")
        observed = _time(row["time"], reasons) if row.get("time") not in (None, "") else timezone.now()
        if reasons:
            rejected.append({"row": number, "id": prediction_id, "reasons": reasons})
        else:
            checked.append((number, prediction_id, value, observed))
    logged = set(
        Prediction.objects.filter(version=version, prediction_id__in=[item[1] for item in checked]).values_list(
            "prediction_id", flat=True
        )
    )
    now = timezone.now()
    rows_to_save = []
    for number, prediction_id, value, observed in checked:
        if prediction_id not in logged:
            reason = f"no prediction {prediction_id} is logged for v{version.version}"
            rejected.append({"row": number, "id": prediction_id, "reasons": [reason]})
            continue
        rows_to_save.append(Outcome(model_id=version.model_id, prediction_id=prediction_id, value=value,
                                    observed_at=observed, received_at=now))  # fmt: skip
    with transaction.atomic():
        Outcome.objects.bulk_create(rows_to_save, update_conflicts=True, unique_fields=["model", "prediction_id"],
                                    update_fields=["value", "observed_at", "received_at"], batch_size=1000)  # fmt: skip
    rejected.sort(key=lambda item: item["row"])
    return len(rows_to_save), rejected


def purge_old(now=None):
    """Delete predictions (and outcomes) older than ``PREDICTION_RETENTION_DAYS``; returns how many predictions."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.PREDICTION_RETENTION_DAYS)
    deleted, _ = Prediction.objects.filter(predicted_at__lt=cutoff).delete()
    Outcome.objects.filter(observed_at__lt=cutoff).delete()
    return deleted
