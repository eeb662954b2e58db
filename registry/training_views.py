"""Training a new version from the model's page: the form, and the runs followed live."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render

from catalog.choices import AssetKind
from catalog.models import Dataset
from core.choices import JobKind
from core.models import JobRun
from registry.forms import TrainingForm
from registry.models import RegisteredModel
from registry.training import ALGORITHMS, start_training


def _model_or_404(slug):
    return get_object_or_404(
        RegisteredModel.objects.select_related("asset__owner", "asset__team"),
        asset__slug=slug,
        asset__kind=AssetKind.MODEL,
    )


def train(request, slug):
    """Start a training run for a model and follow the runs live."""
    model = _model_or_404(slug)
    can_edit = model.asset.can_edit(request.user)
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied("Only the model's owner, its team and staff train new versions.")
        form = TrainingForm(request.POST, model=model)
        if form.is_valid():
            run = start_training(form.request, requested_by=request.user)
            messages.success(
                request, run.queued_message("Training queued. Follow it below; the page updates by itself.")
            )
            return redirect(request.path)
    else:
        form = TrainingForm(model=model, initial=_retried(request, model)) if can_edit else None
    context = {
        "model": model,
        "form": form,
        "can_edit": can_edit,
        "algorithms": [(name, spec[0], ", ".join(spec[3])) for name, spec in ALGORITHMS.items()],
        "columns_of": _columns_of(_typed_dataset(form)) if form is not None else None,
        **_training_runs_context(request, model),
        "nav": "models",
    }
    return render(request, "registry/train.html", context)


def train_columns(request, slug):
    """The recorded columns of the dataset typed in the training form (htmx, when it changes)."""
    _model_or_404(slug)
    return render(
        request, "registry/partials/train_columns.html", {"columns_of": _columns_of(request.GET.get("dataset", ""))}
    )


def _columns_of(typed):
    """The dataset ``typed`` names as the training form's field reads it, with its columns, or None: a person sees
    what they may pick as target and features for that dataset, not the columns of every dataset in the catalog."""
    try:
        asset = TrainingForm.base_fields["dataset"].clean(typed)
    except ValidationError:
        return None
    return Dataset.objects.select_related("asset").prefetch_related("columns").get(pk=asset.pk)


def _typed_dataset(form):
    return form.data.get("dataset", "") if form.is_bound else form.initial.get("dataset", "")


def _retried(request, model):
    """The form's fields as a failed run of this model had them (its Retry button leads here with ``?retry=``)."""
    uuid = request.GET.get("retry", "")
    try:
        run = JobRun.objects.filter(uuid=uuid, kind=JobKind.TRAINING, asset=model.asset).first() if uuid else None
    except ValidationError:  # not a UUID
        return None
    if run is None:
        return None
    params = run.params
    features = params.get("features") or []
    return {
        "dataset": f"{AssetKind.DATASET}/{params['dataset']}" if params.get("dataset") else "",
        "target": params.get("target", ""),
        "features": ", ".join(features) if isinstance(features, list) else features,
        "algorithm": params.get("algorithm"),
        "hyperparameters": params.get("hyperparameters") or {},
        "test_size": params.get("test_size", 0.2),
        "seed": params.get("seed", 42),
        "thresholds": params.get("thresholds") or {},
        "sensitive_column": params.get("sensitive_column", ""),
    }


def _training_runs_context(request, model):
    runs = list(
        JobRun.objects.filter(kind=JobKind.TRAINING, asset=model.asset)
        .select_related("asset", "requested_by")
        .order_by("-created_at", "-pk")[:10]
    )
    return {"model": model, "runs": runs, "live": any(not run.is_finished for run in runs)}


def training_runs(request, slug):
    """The live fragment of the training page (htmx polling)."""
    model = _model_or_404(slug)
    return render(request, "registry/partials/training_runs.html", _training_runs_context(request, model))
