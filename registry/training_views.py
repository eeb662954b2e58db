"""Training a new version from the model's page: the form, and the runs followed live."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render

from catalog.choices import AssetKind
from core.choices import JobKind
from core.models import JobRun
from registry.forms import TrainingForm
from registry.models import RegisteredModel
from registry.training import ALGORITHMS, start_training, trainable_datasets


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
            start_training(form.request, requested_by=request.user)
            messages.success(request, "Training queued. Follow it below; the page updates by itself.")
            return redirect(request.path)
    else:
        form = TrainingForm(model=model) if can_edit else None
    context = {
        "model": model,
        "form": form,
        "can_edit": can_edit,
        "algorithms": [(name, spec[0], ", ".join(spec[3])) for name, spec in ALGORITHMS.items()],
        "datasets": trainable_datasets().prefetch_related("columns"),
        **_training_runs_context(request, model),
        "nav": "models",
    }
    return render(request, "registry/train.html", context)


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
