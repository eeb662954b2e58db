"""Pages of declared dependencies: declare one on a dataset; its owner acknowledges or declines; the consumer
withdraws. Every action goes through the model's methods (``trust.models.dependencies``), as the API does."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from catalog.access import asset_for_user
from catalog.choices import AssetKind
from core.http import redirect_back
from trust.consumer_forms import DeclineForm, DependencyForm
from trust.dependencies import consumers_of
from trust.models import Dependency
from trust.models.dependencies import OWNER_REFUSAL
from trust.views import _form_errors


def declare_dependency(request, kind, slug):
    dataset, _ = asset_for_user(request, kind, slug)
    if dataset.kind != AssetKind.DATASET:
        raise Http404("Dependencies are declared on datasets.")
    form = DependencyForm(request.POST or None, dataset=dataset, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            dependency = Dependency.declare(
                dataset,
                by=request.user,
                consumer=form.consumer(request.user),
                columns=form.cleaned_data["columns"],
                needed_by=form.cleaned_data["needed_by"],
                purpose=form.cleaned_data["purpose"],
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(
                request,
                f"Declared: {dependency.consumer_name} depends on {dataset.name}. "
                f"{dataset.owner or 'Its team'} is asked to acknowledge it.",
            )
            return redirect(dependency.get_absolute_url())
    return render(
        request,
        "trust/dependency_form.html",
        {"asset": dataset, "form": form, "consumers": consumers_of(dataset)},
        status=400 if form.errors else 200,
    )


def _dependency(uuid):
    return get_object_or_404(Dependency.objects.with_consumers().select_related("dataset__team"), uuid=uuid)


def _act(request, dependency, action, success):
    try:
        action()
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, success)
    return redirect_back(request, dependency.dataset)


@require_POST
def dependency_acknowledge(request, uuid):
    dependency = _dependency(uuid)
    return _act(
        request,
        dependency,
        lambda: dependency.acknowledge(by=request.user),
        f"Acknowledged: {dependency.consumer_name} will be told before {dependency.dataset.name} changes.",
    )


@require_POST
def dependency_decline(request, uuid):
    dependency = _dependency(uuid)
    if not dependency.dataset.can_edit(request.user):
        raise PermissionDenied(OWNER_REFUSAL)
    form = DeclineForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Nothing recorded: say why you decline, so the consumer can decide what to do.")
        return redirect_back(request, dependency.dataset)
    return _act(
        request,
        dependency,
        lambda: dependency.decline(by=request.user, reason=form.cleaned_data["reason"]),
        f"Declined; {dependency.consumer_name} was told why.",
    )


@require_POST
def dependency_withdraw(request, uuid):
    dependency = _dependency(uuid)
    return _act(
        request,
        dependency,
        lambda: dependency.withdraw(by=request.user),
        f"Withdrawn: {dependency.consumer_name} no longer depends on {dependency.dataset.name}.",
    )
