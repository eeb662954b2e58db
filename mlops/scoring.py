"""Batch scoring by the portal: a version runs over a catalog dataset and its predictions become a dataset.

The input is a CSV or Parquet dataset under ``DATA_ROOT`` or a table of a SQLite, PostgreSQL or MySQL/MariaDB
source (read through the freshness probes' reader, ``monitoring.probes.open_sql_table``); it is checked against the
version's features (a missing column or a text column where training saw numbers is a readable failure). The
predictions are written as Parquet under ``DATA_ROOT/predictions/``, catalogued as a dataset of the "Portal
predictions" source through the catalog's writers, with lineage input → version → predictions, and logged for
monitoring. The model's challenger, if it has one, scores the same rows in shadow (logged, same prediction ids).
"""

from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from catalog import assets
from catalog.choices import AssetKind, DatasetFormat, Lifecycle, LineageOrigin, SourceKind
from catalog.finding import AssetFilter, find_asset
from catalog.models import Asset, Dataset, DataSource
from catalog.scanning import FoundColumn, apply_schema, dataset_for
from core.choices import JobKind
from core.files import inside_data_root
from core.jobs import JobFailed, checkpoint
from core.models import JobRun
from mlops.ingest import log_predictions
from monitoring.probes import ProbeFailed, open_sql_table
from registry.models import ModelVersion
from registry.training import load_file_dataset

STEPS = ["queued", "loading", "checking", "scoring", "writing", "logging", "done"]
SCORABLE_FORMATS = (DatasetFormat.CSV, DatasetFormat.PARQUET, DatasetFormat.TABLE)
# What scoring may read, for the page's typed field (suggestions and accepted values) and the API alike: a dataset,
# not retired, of a scorable format.
SCORABLE = AssetFilter(kind=AssetKind.DATASET, formats=SCORABLE_FORMATS)
SCORABLE_NOUN = "CSV, Parquet or database table dataset"
PREDICTIONS_SOURCE = "Portal predictions"
LOG_BATCH = 5000


def check_scorable(dataset):
    """The rule for what scoring reads, for a run and for a schedule (``ScoringSchedule.clean``)."""
    if dataset.format not in SCORABLE_FORMATS:
        raise ValidationError({"dataset": f"{dataset.asset.name} is a {dataset.get_format_display()}; scoring reads "
                                          "CSV, Parquet or a database table."})  # fmt: skip


def scorable_dataset(slug):
    """The dataset the API names by ``slug``, found as the page's dataset field finds a suggestion it accepts
    (``find_asset`` among ``SCORABLE``), so both doors take the same datasets. Otherwise a ``ValidationError`` on
    ``dataset`` saying why: no such dataset, retired, or a format scoring does not read."""
    try:
        return find_asset(f"{AssetKind.DATASET}/{slug}", SCORABLE.assets(), noun=SCORABLE_NOUN).dataset
    except ValidationError as exc:
        refused = exc
    # Not among them: one more query, only to say why.
    asset = Asset.objects.filter(kind=AssetKind.DATASET, slug=slug).select_related("dataset").first()
    if asset is None:
        raise ValidationError({"dataset": f"No catalog dataset has the slug “{slug}”."})
    if asset.lifecycle == Lifecycle.RETIRED:
        raise ValidationError({"dataset": f"{asset.name} is retired; scoring reads datasets still in use."})
    check_scorable(asset.dataset)
    raise ValidationError({"dataset": refused.messages})


def start_scoring(version, dataset, *, requested_by, id_column=""):
    """Queue a scoring run of ``version`` over ``dataset`` (page, API and schedule all start it here)."""
    check_scorable(dataset)
    return JobRun.enqueue(
        JobKind.BATCH_SCORING,
        asset=version.asset,
        requested_by=requested_by,
        params={"version": version.pk, "dataset": dataset.asset.slug, "id_column": id_column},
    )


@contextmanager
def open_table(dataset):
    """A ``monitoring.probes.SqlTable`` (read-only connection, quoted table name, parameter mark) of a table dataset
    of a SQLite, PostgreSQL or MySQL/MariaDB source, through the freshness probes' reader (the allow-listed host,
    the bound secret, a read-only session); ``JobFailed`` with the reason otherwise. The one reader of SQL tables
    for scoring and for prediction tables."""
    try:
        with open_sql_table(dataset, settings.MLOPS_SQL_READ_TIMEOUT) as table:
            yield table
    except ProbeFailed as exc:
        raise JobFailed(str(exc)) from None


def read_rows(table, sql, parameters=()):
    """The rows of ``sql`` on an open ``SqlTable`` as a DataFrame, columns as the query names them."""
    import pandas as pd

    cursor = table.connection.cursor()
    try:
        cursor.execute(sql, parameters)
        columns = [column[0] for column in cursor.description]
        return pd.DataFrame.from_records(cursor.fetchall(), columns=columns)
    finally:
        cursor.close()


def _load(dataset):
    if dataset.format == DatasetFormat.TABLE:
        with open_table(dataset) as table:
            frame = read_rows(table, f"SELECT * FROM {table.name}")
        return decimals_as_floats(frame)
    return load_file_dataset(dataset)[0]


def decimals_as_floats(frame):
    """Decimal columns (PostgreSQL numeric, MySQL DECIMAL) as floats, as a CSV of the same table would read."""
    import decimal

    for name in frame.columns:
        sample = frame[name].dropna()
        if len(sample) and isinstance(sample.iloc[0], decimal.Decimal):
            frame[name] = frame[name].astype(float)
    return frame


def check_input(version, frame):
    """Readable reasons, as training gives them, when the input does not fit the version's features."""
    import pandas as pd

    features = list(version.features or [])
    if not features:
        raise JobFailed(f"v{version.version} does not record its features; register them before scoring.")
    missing = [name for name in features if name not in frame.columns]
    if missing:
        raise JobFailed(f"The input has no column {', '.join(missing)}, which v{version.version} needs.")
    profile = (version.reference_profile or {}).get("features", {})
    for name in features:
        if profile.get(name, {}).get("type") == "numeric" and not pd.api.types.is_numeric_dtype(frame[name]):
            sample = frame[name].dropna()
            bad = sample[pd.to_numeric(sample, errors="coerce").isna()]
            example = f" such as {bad.iloc[0]!r}" if len(bad) else ""
            raise JobFailed(f"Column {name} was numeric in training but holds text{example}.")


def load_model(version):
    import mlflow
    import mlflow.sklearn

    if not version.model_uri:
        raise JobFailed(f"v{version.version} has no MLflow model to load.")
    mlflow.set_tracking_uri(settings.MLFLOW_TRACKING_URI)
    try:
        return mlflow.sklearn.load_model(version.model_uri)
    except Exception as exc:  # MLflow raises many types for a missing or unreadable model
        raise JobFailed(f"Could not load the model {version.model_uri}: {exc}") from None


def predict(pipeline, frame, features):
    x = frame[features]
    predictions = pipeline.predict(x)
    scores = None
    if hasattr(pipeline, "predict_proba") and len(getattr(pipeline, "classes_", [])) == 2:
        scores = pipeline.predict_proba(x)[:, 1]
    return predictions, scores


def _predictions_source(owner, team):
    source = DataSource.objects.filter(asset__name=PREDICTIONS_SOURCE, asset__kind=AssetKind.SOURCE).first()
    if source is None:
        asset = Asset(
            kind=AssetKind.SOURCE,
            name=PREDICTIONS_SOURCE,
            owner=owner,
            team=team,
            description="Predictions written by the portal's batch scoring, under DATA_ROOT/predictions.",
        )
        source = DataSource(source_kind=SourceKind.FILES, connection={"path": "predictions"})
        assets.create_asset(asset, source, actor=owner)  # fmt: skip
    return source


def _log(version, ids, moment, frame, features, predictions, scores):
    records = frame[features].astype(object).where(frame[features].notna(), None).to_dict("records")
    accepted = 0
    for start in range(0, len(ids), LOG_BATCH):
        rows = [
            {"id": ids[i], "time": moment, "features": records[i], "prediction": predictions[i],
             "score": None if scores is None else float(scores[i])}
            for i in range(start, min(start + LOG_BATCH, len(ids)))
        ]  # fmt: skip
        with transaction.atomic():
            accepted += log_predictions(version, rows)[0]
    return accepted


def score(run):
    """The job's handler."""
    import pandas as pd

    from mlops.models import ModelOps

    version = ModelVersion.objects.select_related("model__asset", "asset").filter(pk=run.params.get("version")).first()
    if version is None:
        raise JobFailed("The version this run was started for no longer exists.")
    dataset = Dataset.objects.select_related("asset", "source__asset").filter(asset__slug=run.params["dataset"]).first()
    if dataset is None:
        raise JobFailed("The input dataset no longer exists.")
    checkpoint(run, "loading", 10, log_line=f"reading {dataset.qualified_name}")
    frame = _load(dataset)
    checkpoint(run, "checking", 20, log_line=f"{len(frame)} rows, {len(frame.columns)} columns")
    check_input(version, frame)
    id_column = run.params.get("id_column") or ""
    if id_column and id_column not in frame.columns:
        raise JobFailed(f"The input has no id column {id_column}.")
    ids = frame[id_column].astype(str).tolist() if id_column else [f"{run.uuid}-{i}" for i in range(len(frame))]
    features = list(version.features)
    checkpoint(run, "scoring", 35)
    predictions, scores = predict(load_model(version), frame, features)

    checkpoint(run, "writing", 60)
    moment = timezone.now()
    output = pd.DataFrame({"id": ids, "prediction": predictions})
    if scores is not None:
        output["score"] = scores
    output["model_version"] = f"{version.model.asset.slug}:v{version.version}"
    output["scored_at"] = moment
    relative = f"predictions/{version.model.asset.slug}-v{version.version}-{moment:%Y%m%d-%H%M%S}.parquet"
    path = inside_data_root(relative)
    path.parent.mkdir(parents=True, exist_ok=True)
    output.to_parquet(path, index=False)
    owner, team = version.model.asset.owner, version.model.asset.team
    with transaction.atomic():
        source = _predictions_source(owner, team)
        out, _ = dataset_for(source, relative, DatasetFormat.PARQUET, actor=run.requested_by,
                             description=f"Predictions of {version} over {dataset.asset.name}.")  # fmt: skip
        apply_schema(out, [FoundColumn(name, str(dtype)) for name, dtype in output.dtypes.items()], "scan")
        assets.link([(dataset.asset_id, version.asset_id), (version.asset_id, out.asset_id)],
                     actor=run.requested_by, origin=LineageOrigin.REGISTRY)  # fmt: skip

    checkpoint(run, "logging", 75, log_line=f"wrote {relative}")
    plain = [item.item() if hasattr(item, "item") else item for item in predictions]
    logged = _log(version, ids, moment, frame, features, plain, scores)
    shadow = {}
    ops = ModelOps.objects.select_related("challenger").filter(model=version.model).first()
    challenger = ops.challenger if ops is not None else None
    if challenger is not None and challenger.pk != version.pk:
        checkpoint(run, "logging", 85, log_line=f"challenger v{challenger.version} scores the same rows in shadow")
        check_input(challenger, frame)
        c_predictions, c_scores = predict(load_model(challenger), frame, list(challenger.features))
        c_plain = [item.item() if hasattr(item, "item") else item for item in c_predictions]
        shadow = {
            "version": challenger.version,
            "logged": _log(challenger, ids, moment, frame, list(challenger.features), c_plain, c_scores),
        }
    run.report("logging", 98, log_line=f"logged {logged} predictions")  # fmt: skip
    return {"rows": len(frame), "output": out.asset.slug, "output_path": relative, "logged": logged, "shadow": shadow}


def start_due_schedules(now=None):
    """Start the scoring run of every active schedule whose time has come (beat, every minute); returns the runs.
    A schedule is claimed by moving ``next_run_at`` one period on (compare-and-set); a schedule whose previous run
    is still waiting or running, or whose model has no version in use, is not started and says why."""
    from core.choices import JobState
    from mlops.models import ScoringSchedule
    from mlops.monitoring import in_use

    now = now or timezone.now()
    started = []
    due = ScoringSchedule.objects.filter(active=True, next_run_at__lte=now).select_related(
        "model", "version", "dataset__asset", "last_run", "created_by"
    )
    for schedule in due.order_by("next_run_at")[:100]:
        claimed = ScoringSchedule.objects.filter(pk=schedule.pk, next_run_at=schedule.next_run_at).update(
            next_run_at=now + timedelta(hours=schedule.every_hours)
        )
        if claimed != 1:
            continue
        note, run = "", None
        version = schedule.version or in_use(schedule.model)
        if schedule.last_run is not None and schedule.last_run.state in (JobState.QUEUED, JobState.RUNNING):
            note = f"Not started at {now:%Y-%m-%d %H:%M}: the previous run is still {schedule.last_run.state}."
        elif version is None:
            note = f"Not started at {now:%Y-%m-%d %H:%M}: no version of the model is in use."
        else:
            try:
                with transaction.atomic():
                    run = start_scoring(version, schedule.dataset, requested_by=schedule.created_by,
                                        id_column=schedule.id_column)  # fmt: skip
            except ValidationError as exc:
                note = f"Not started at {now:%Y-%m-%d %H:%M}: {' '.join(exc.messages)}"
        fields = {"last_note": note[:300]}
        if run is not None:
            fields["last_run"] = run
            started.append(run)
        ScoringSchedule.objects.filter(pk=schedule.pk).update(**fields)
    return started
