"""Training a new model version on a catalog dataset, as a background job.

``validate_request`` is the one place a training request is checked (the page's form and the API both call it,
against the dataset's recorded columns). The job handler then loads the file, checks the data itself, trains with
scikit-learn, evaluates, measures the largest metric gap between groups of a sensitive column, logs everything to
MLflow and registers the version, reporting each step so the page can follow it.
"""

import math
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from catalog.choices import DatasetFormat
from catalog.models import Dataset
from core.choices import JobKind, NotificationKind
from core.files import OutsideDataRoot, inside_data_root
from core.jobs import JobFailed, checkpoint
from core.notifications import notify
from registry.models import RegisteredModel

CLASSIFICATION, REGRESSION = "classification", "regression"
TRAINABLE_FORMATS = (DatasetFormat.CSV, DatasetFormat.PARQUET)

# name: (label, task, scikit-learn class path, {hyperparameter: type})
ALGORITHMS = {
    "logistic_regression": ("Logistic regression", CLASSIFICATION, "sklearn.linear_model.LogisticRegression",
                            {"C": float, "max_iter": int}),
    "random_forest_classifier": ("Random forest", CLASSIFICATION, "sklearn.ensemble.RandomForestClassifier",
                                 {"n_estimators": int, "max_depth": int, "min_samples_leaf": int}),
    "gradient_boosting_classifier": ("Gradient boosting", CLASSIFICATION,
                                     "sklearn.ensemble.GradientBoostingClassifier",
                                     {"n_estimators": int, "learning_rate": float, "max_depth": int}),
    "linear_regression": ("Linear regression (ridge)", REGRESSION, "sklearn.linear_model.Ridge", {"alpha": float}),
    "random_forest_regressor": ("Random forest regressor", REGRESSION, "sklearn.ensemble.RandomForestRegressor",
                                {"n_estimators": int, "max_depth": int, "min_samples_leaf": int}),
    "gradient_boosting_regressor": ("Gradient boosting regressor", REGRESSION,
                                    "sklearn.ensemble.GradientBoostingRegressor",
                                    {"n_estimators": int, "learning_rate": float, "max_depth": int}),
}  # fmt: skip
ALGORITHM_CHOICES = [(name, spec[0]) for name, spec in ALGORITHMS.items()]
METRICS = {
    CLASSIFICATION: ["accuracy", "precision", "recall", "f1", "roc_auc"],
    REGRESSION: ["mae", "rmse", "r2"],
}
GAP_METRIC = "max_group_gap"
# Thresholds on these are maxima (smaller is better); on every other metric they are minima.
LOWER_IS_BETTER = {"mae", "rmse", GAP_METRIC}
NUMERIC_TYPE_WORDS = ("int", "float", "double", "numeric", "decimal", "real", "number")
STEPS = ["queued", "loading", "validating", "training", "evaluating", "registering", "done"]


@dataclass
class TrainingRequest:
    model: RegisteredModel
    dataset: Dataset
    target: str
    features: list
    algorithm: str
    hyperparameters: dict
    test_size: float
    seed: int
    thresholds: dict
    sensitive_column: str

    @property
    def task(self):
        return ALGORITHMS[self.algorithm][1]

    def as_params(self):
        return {
            "model": self.model.asset.slug,
            "dataset": self.dataset.asset.slug,
            "target": self.target,
            "features": self.features,
            "algorithm": self.algorithm,
            "hyperparameters": self.hyperparameters,
            "test_size": self.test_size,
            "seed": self.seed,
            "thresholds": self.thresholds,
            "sensitive_column": self.sensitive_column,
        }


def trainable_datasets():
    return Dataset.objects.filter(format__in=TRAINABLE_FORMATS).select_related("asset").order_by("asset__name")


def _names(value):
    if isinstance(value, str):
        value = value.replace("\n", ",").split(",")
    return [str(item).strip() for item in value or [] if str(item).strip()]


def validate_request(model, data):
    """A checked ``TrainingRequest`` from form or API data, or ``ValidationError`` naming each bad field.

    Each step below checks a group of fields, records what is wrong in ``errors`` (one message per field, in the
    form's order) and returns the cleaned values, so one answer lists every problem at once.
    """
    errors = {}
    dataset, recorded = _clean_dataset(data.get("dataset"), errors)
    target, features, sensitive = _clean_columns(data, dataset, recorded, errors)
    algorithm = data.get("algorithm") or ""
    if algorithm not in ALGORITHMS:
        errors["algorithm"] = "Choose one of the listed algorithms."
    hyperparameters = _clean_hyperparameters(algorithm, data.get("hyperparameters") or {}, errors)
    test_size, seed = _clean_split(data, errors)
    thresholds = _clean_thresholds(algorithm, data.get("thresholds") or {}, sensitive, errors)
    if errors:
        raise ValidationError(errors)
    return TrainingRequest(model, dataset, target, features, algorithm, hyperparameters, test_size, seed,
                           {name: float(value) for name, value in thresholds.items()}, sensitive)  # fmt: skip


def _clean_dataset(dataset, errors):
    """The trainable dataset named by ``dataset`` (a slug or a ``Dataset``) and its recorded column names; the
    names are None when there is nothing to check columns against."""
    if isinstance(dataset, str):
        dataset = trainable_datasets().filter(asset__slug=dataset).first()
    if dataset is None:
        errors["dataset"] = "Choose a CSV or Parquet dataset from the catalog."
        return None, None
    if dataset.format not in TRAINABLE_FORMATS:
        errors["dataset"] = f"{dataset.asset.name} is a {dataset.get_format_display()}; training reads CSV or Parquet."
        return dataset, None
    recorded = set(dataset.columns.values_list("name", flat=True))
    if not recorded:
        errors["dataset"] = f"{dataset.asset.name} has no recorded columns; scan or describe its schema first."
        return dataset, None
    return dataset, recorded


def _clean_columns(data, dataset, recorded, errors):
    """The target, the features and the sensitive column: named, distinct, and recorded columns of the dataset."""

    def known(field, names):
        unknown = [name for name in names if recorded is not None and name not in recorded]
        if unknown:
            errors[field] = f"Not a recorded column of {dataset.asset.name}: {', '.join(unknown)}."

    target = (data.get("target") or "").strip()
    features = _names(data.get("features"))
    sensitive = (data.get("sensitive_column") or "").strip()
    if not target:
        errors["target"] = "Name the column to predict."
    else:
        known("target", [target])
    if not features:
        errors["features"] = "Name at least one feature column."
    elif target in features:
        errors["features"] = "The target cannot also be a feature."
    else:
        known("features", features)
    if sensitive:
        known("sensitive_column", [sensitive])
        if sensitive == target:
            errors["sensitive_column"] = "The sensitive column cannot be the target."
    return target, features, sensitive


def _clean_hyperparameters(algorithm, hyperparameters, errors):
    """The hyperparameters converted to the types the algorithm takes; only names it knows."""
    if not isinstance(hyperparameters, dict):
        errors["hyperparameters"] = 'Give hyperparameters as a JSON object, e.g. {"n_estimators": 200}.'
        return hyperparameters
    if algorithm not in ALGORITHMS:
        return hyperparameters
    allowed = ALGORITHMS[algorithm][3]
    wrong = [name for name in hyperparameters if name not in allowed]
    if wrong:
        errors["hyperparameters"] = f"{ALGORITHMS[algorithm][0]} takes {', '.join(allowed)}; not {', '.join(wrong)}."
        return hyperparameters
    try:
        return {name: _typed(allowed[name], value) for name, value in hyperparameters.items()}
    except (TypeError, ValueError) as exc:
        errors["hyperparameters"] = str(exc)
        return hyperparameters


def _clean_split(data, errors):
    """``(test_size, seed)``: how much to hold out for testing, and the seed of the split and the estimator."""
    try:
        test_size = float(data.get("test_size", 0.2))
        if not 0.05 <= test_size <= 0.5:
            raise ValueError
    except (TypeError, ValueError):
        errors["test_size"] = "Keep between 5 % and 50 % of the rows for testing (0.05 to 0.5)."
        test_size = None
    try:
        seed = int(data.get("seed", 42))
    except (TypeError, ValueError):
        errors["seed"] = "The random seed is a whole number."
        seed = None
    return test_size, seed


def _clean_thresholds(algorithm, thresholds, sensitive, errors):
    """Thresholds on the algorithm's metrics (and the group gap, which needs a sensitive column), each a number."""
    if not isinstance(thresholds, dict):
        errors["thresholds"] = 'Give thresholds as a JSON object, e.g. {"roc_auc": 0.75}.'
        return thresholds
    if algorithm not in ALGORITHMS:
        return thresholds
    allowed = [*METRICS[ALGORITHMS[algorithm][1]], GAP_METRIC]
    wrong = [name for name in thresholds if name not in allowed]
    if wrong:
        errors["thresholds"] = f"Thresholds can be set on {', '.join(allowed)}; not {', '.join(wrong)}."
    elif not all(isinstance(value, int | float) and not isinstance(value, bool) for value in thresholds.values()):
        errors["thresholds"] = "Each threshold is a number."
    elif GAP_METRIC in thresholds and not sensitive:
        errors["thresholds"] = f"A {GAP_METRIC} threshold needs a sensitive column."
    return thresholds


def _typed(kind, value):
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{value!r} is not a number.")
    number = kind(value)
    if kind is float and not math.isfinite(number):
        raise ValueError(f"{value!r} is not a finite number.")
    return number


def start_training(request, *, requested_by):
    """Enqueue a validated ``TrainingRequest``. The page and the API both start training through here."""
    from core.models import JobRun

    return JobRun.enqueue(
        JobKind.TRAINING, asset=request.model.asset, requested_by=requested_by, params=request.as_params()
    )


# --- the job ---------------------------------------------------------------------------------------------------
def train(run):
    params = run.params
    model = RegisteredModel.objects.select_related("asset").filter(asset__slug=params.get("model")).first()
    if model is None:
        raise JobFailed("The model this run was started for no longer exists.")
    try:
        request = validate_request(model, params)
    except ValidationError as exc:
        raise JobFailed("The request is no longer valid: " + _sentence(exc)) from None

    checkpoint(run, "loading", 10, log_line=f"reading {request.dataset.qualified_name}")
    frame, path = load_file_dataset(request.dataset)
    checkpoint(run, "validating", 25, log_line=f"{len(frame)} rows, {len(frame.columns)} columns")
    frame = _check_data(request, frame, run)

    checkpoint(run, "training", 40, log_line=f"{ALGORITHMS[request.algorithm][0]} on {len(request.features)} features")
    pipeline, x_test, y_test, groups = _fit(request, frame)

    checkpoint(run, "evaluating", 65)
    metrics = _evaluate(request, pipeline, x_test, y_test)
    gaps = _group_gaps(request, pipeline, x_test, y_test, groups) if request.sensitive_column else {}
    if gaps:
        metrics[GAP_METRIC] = gaps["gap"]
    threshold_results = {
        name: {
            "threshold": limit,
            "value": metrics.get(name),
            "direction": "max" if name in LOWER_IS_BETTER else "min",
            "passed": metrics.get(name) is not None
            and (metrics[name] <= limit if name in LOWER_IS_BETTER else metrics[name] >= limit),
        }
        for name, limit in request.thresholds.items()
    }
    passed = all(item["passed"] for item in threshold_results.values()) if threshold_results else None
    checkpoint(run, "evaluating", 75, log_line=", ".join(f"{name} {value:.3f}" for name, value in metrics.items()))

    profile = _reference_profile(request, pipeline, frame)
    checkpoint(run, "registering", 80, log_line="logging the run to MLflow")
    mlflow_run_id, model_uri = _log_to_mlflow(run, request, pipeline, frame, path, metrics, gaps)
    checkpoint(run, "registering", 92, log_line=f"MLflow run {mlflow_run_id}")
    from registry.services import register_version

    version = register_version(
        model,
        created_by=run.requested_by,
        training_datasets=[request.dataset],
        metrics=metrics,
        algorithm=ALGORITHMS[request.algorithm][0],
        hyperparameters=request.hyperparameters,
        features=request.features,
        mlflow_run_id=mlflow_run_id,
        model_uri=model_uri,
        passed_thresholds=passed,
        threshold_results=threshold_results,
        reference_profile=profile,
    )
    run.report("registering", 98, log_line=f"registered version {version.version}")
    if run.requested_by is not None:
        verdict = {True: " It meets its thresholds.", False: " It misses a threshold.", None: ""}[passed]
        notify([run.requested_by], kind=NotificationKind.JOB, asset=model.asset, url=model.get_absolute_url(),
               title=f"{model.asset.name} v{version.version} is trained",
               body=f"Registered under development.{verdict}")  # fmt: skip
    return {
        "version": version.version,
        "version_slug": version.asset.slug,
        "metrics": metrics,
        "group_gaps": gaps,
        "passed_thresholds": passed,
        "threshold_results": threshold_results,
        "mlflow_run_id": mlflow_run_id,
        "model_uri": model_uri,
        "rows": len(frame),
    }


def _sentence(exc):
    return " ".join(f"{field}: {' '.join(messages)}" for field, messages in exc.message_dict.items())


def load_file_dataset(dataset):
    """The frame of a CSV or Parquet dataset under ``DATA_ROOT`` and its path; ``JobFailed`` with a reason the owner
    can act on when it is outside, missing or unreadable (training and batch scoring read their input with it)."""
    import pandas as pd

    try:
        path = inside_data_root(dataset.qualified_name)
    except OutsideDataRoot as exc:
        raise JobFailed(str(exc)) from None
    if not path.is_file():
        raise JobFailed(f"There is no file at '{dataset.qualified_name}' under DATA_ROOT; was it moved?")
    try:
        frame = pd.read_parquet(path) if dataset.format == DatasetFormat.PARQUET else pd.read_csv(path)
    except Exception as exc:  # pandas raises many types for a corrupt file; the owner needs the message either way
        raise JobFailed(f"Could not read {dataset.qualified_name} as {dataset.get_format_display()}: {exc}") from None
    return frame, path


def _check_data(request, frame, run):
    """Check the file against the request and the recorded schema; a readable failure instead of a traceback."""
    import pandas as pd

    needed = [request.target, *request.features, *([request.sensitive_column] if request.sensitive_column else [])]
    missing = [name for name in dict.fromkeys(needed) if name not in frame.columns]
    if missing:
        raise JobFailed(
            f"The file has no column {', '.join(missing)}, although the catalog records "
            f"{'it' if len(missing) == 1 else 'them'}. The file changed shape: rescan the dataset's schema."
        )
    recorded = dict(request.dataset.columns.values_list("name", "data_type"))
    for name in dict.fromkeys([request.target, *request.features]):
        declared = recorded.get(name, "").lower()
        if any(word in declared for word in NUMERIC_TYPE_WORDS) and not pd.api.types.is_numeric_dtype(frame[name]):
            sample = frame[name].dropna()
            bad = sample[pd.to_numeric(sample, errors="coerce").isna()]
            example = f" such as {bad.iloc[0]!r}" if len(bad) else ""
            raise JobFailed(f"Column {name} is recorded as {declared} but holds text{example}.")
    if frame[request.target].isna().all():
        raise JobFailed(f"The target column {request.target} is empty in every row: there is nothing to learn.")
    unlabelled = int(frame[request.target].isna().sum())
    if unlabelled:
        frame = frame[frame[request.target].notna()]
        checkpoint(run, "validating", 30, log_line=f"dropped {unlabelled} rows without a {request.target} value")
    if request.task == CLASSIFICATION and frame[request.target].nunique() < 2:
        raise JobFailed(f"The target column {request.target} has a single value; a classifier needs two or more.")
    if request.task == REGRESSION and not pd.api.types.is_numeric_dtype(frame[request.target]):
        raise JobFailed(f"The target column {request.target} is not numeric; choose a classification algorithm.")
    if len(frame) < 20:
        raise JobFailed(f"Only {len(frame)} labelled rows: at least 20 are needed to train and test.")
    return frame


def _fit(request, frame):
    import importlib

    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    x = frame[request.features]
    y = frame[request.target]
    numeric = [name for name in request.features if pd.api.types.is_numeric_dtype(x[name])]
    categorical = [name for name in request.features if name not in numeric]
    prepare = ColumnTransformer(
        [
            ("numeric", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
            ("categorical", make_pipeline(SimpleImputer(strategy="most_frequent"),
                                          OneHotEncoder(handle_unknown="ignore")), categorical),
        ]
    )  # fmt: skip
    module, _, name = ALGORITHMS[request.algorithm][2].rpartition(".")
    estimator_class = getattr(importlib.import_module(module), name)
    options = dict(request.hyperparameters)
    if "random_state" in estimator_class().get_params():
        options["random_state"] = request.seed
    pipeline = Pipeline([("prepare", prepare), ("estimator", estimator_class(**options))])
    groups = frame[request.sensitive_column] if request.sensitive_column else None
    stratify = y if request.task == CLASSIFICATION and y.value_counts().min() >= 2 else None
    parts = train_test_split(
        x, y, *([groups] if groups is not None else []),
        test_size=request.test_size, random_state=request.seed, stratify=stratify,
    )  # fmt: skip
    x_train, x_test, y_train, y_test = parts[:4]
    try:
        pipeline.fit(x_train, y_train)
    except ValueError as exc:
        raise JobFailed(f"scikit-learn could not train on this data: {exc}") from None
    return pipeline, x_test, y_test, parts[5] if groups is not None else None


def _reference_profile(request, pipeline, frame):
    """The profile of the training data and of the model's outputs on it, for monitoring after go-live."""
    from registry.profiles import build_profile

    x = frame[request.features]
    scores = pipeline.predict_proba(x)[:, 1] if request.task == CLASSIFICATION and len(pipeline.classes_) == 2 else None
    return {**build_profile(x, predictions=pipeline.predict(x), scores=scores), "target": request.target,
            "task": request.task}  # fmt: skip


def _scores(task, pipeline, x, y):
    from sklearn import metrics as m

    predicted = pipeline.predict(x)
    if task == REGRESSION:
        return {
            "mae": float(m.mean_absolute_error(y, predicted)),
            "rmse": float(math.sqrt(m.mean_squared_error(y, predicted))),
            "r2": float(m.r2_score(y, predicted)) if len(y) > 1 else float("nan"),
        }
    binary = y.nunique() <= 2 and len(pipeline.classes_) == 2
    average = "binary" if binary else "weighted"
    options = {"average": average, "zero_division": 0}
    if binary:
        options["pos_label"] = pipeline.classes_[1]
    scores = {
        "accuracy": float(m.accuracy_score(y, predicted)),
        "precision": float(m.precision_score(y, predicted, **options)),
        "recall": float(m.recall_score(y, predicted, **options)),
        "f1": float(m.f1_score(y, predicted, **options)),
    }
    if y.nunique() >= 2:
        probabilities = pipeline.predict_proba(x)
        if binary:
            scores["roc_auc"] = float(m.roc_auc_score(y, probabilities[:, 1]))
        else:
            scores["roc_auc"] = float(
                m.roc_auc_score(y, probabilities, multi_class="ovr", average="weighted", labels=pipeline.classes_)
            )
    return scores


def _evaluate(request, pipeline, x_test, y_test):
    return {
        name: value for name, value in _scores(request.task, pipeline, x_test, y_test).items() if math.isfinite(value)
    }


def _group_gaps(request, pipeline, x_test, y_test, groups, minimum=5):
    """Each metric per group of the sensitive column (groups of at least ``minimum`` test rows), and the largest
    gap between two groups on any metric."""
    per_group = {}
    for group in sorted(groups.dropna().unique(), key=str):
        mask = (groups == group).to_numpy()
        if mask.sum() < minimum:
            continue
        scores = _scores(request.task, pipeline, x_test[mask], y_test[mask])
        per_group[str(group)] = {name: value for name, value in scores.items() if math.isfinite(value)}
    if len(per_group) < 2:
        return {}
    worst = None
    for metric in METRICS[request.task]:
        values = {group: scores[metric] for group, scores in per_group.items() if metric in scores}
        if len(values) < 2:
            continue
        high, low = max(values, key=values.get), min(values, key=values.get)
        gap = values[high] - values[low]
        if worst is None or gap > worst["gap"]:
            worst = {"gap": gap, "metric": metric, "best_group": high, "worst_group": low}
    return {**(worst or {"gap": 0.0}), "column": request.sensitive_column, "groups": per_group}


def _log_to_mlflow(run, request, pipeline, frame, path, metrics, gaps):
    import mlflow
    import mlflow.sklearn
    import sklearn

    mlflow.set_tracking_uri(settings.MLFLOW_TRACKING_URI)
    experiment_name = request.model.mlflow_name or request.model.asset.slug
    experiment = mlflow.get_experiment_by_name(experiment_name)
    if experiment is None:
        location = (Path(settings.MLFLOW_ARTIFACT_ROOT) / experiment_name).resolve().as_uri()
        experiment_id = mlflow.create_experiment(experiment_name, artifact_location=location)
    else:
        experiment_id = experiment.experiment_id
    with mlflow.start_run(experiment_id=experiment_id, run_name=f"portal-{timezone.now():%Y%m%d-%H%M%S}") as active:
        mlflow.set_tags({"portal.job_run": str(run.uuid), "portal.model": request.model.asset.slug})
        mlflow.log_params(
            {
                "algorithm": request.algorithm,
                "target": request.target,
                "features": ",".join(request.features),
                "test_size": request.test_size,
                "seed": request.seed,
                "sensitive_column": request.sensitive_column or "-",
                **{f"hp_{name}": value for name, value in request.hyperparameters.items()},
            }
        )
        mlflow.log_metrics(metrics)
        if gaps:
            mlflow.log_dict(gaps, "fairness/group_metrics.json")
        dataset = mlflow.data.from_pandas(
            frame, source=str(path), targets=request.target, name=request.dataset.asset.slug
        )
        mlflow.log_input(dataset, context="training")
        # skops refuses types it cannot vouch for (tree arrays, dtypes); this model was built in this process from
        # scikit-learn classes only, so its own types are the ones to trust.
        from skops.io import dumps, get_untrusted_types

        # Explicit requirements: inferring them imports the model in a subprocess and costs ~15 s per run.
        info = mlflow.sklearn.log_model(
            pipeline,
            name="model",
            pip_requirements=[f"scikit-learn=={sklearn.__version__}"],
            skops_trusted_types=get_untrusted_types(data=dumps(pipeline)),
        )
    return active.info.run_id, info.model_uri
