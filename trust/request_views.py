"""Pages of change requests ("Request a change") and of the requirements review of reports and models."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from catalog.access import asset_for_user
from core.http import query_without_page
from trust.choices import ChangeRequestStatus
from trust.consumer_forms import ChangeRequestForm, ChangeRequestTransitionForm, RequirementsReviewForm
from trust.filtersets import ChangeRequestFilterSet
from trust.models import ChangeRequest, RequirementsReview
from trust.models.requests import REQUESTABLE_KINDS, REQUIREMENTS_KINDS
from trust.views import _form_errors


def request_change(request, kind, slug):
    asset, _ = asset_for_user(request, kind, slug)
    if asset.kind not in REQUESTABLE_KINDS:
        raise Http404("Changes are requested of reports, datasets and models.")
    form = ChangeRequestForm(request.POST or None, asset=asset)
    if request.method == "POST" and form.is_valid():
        change = ChangeRequest.propose(
            asset, by=request.user, **{name: form.cleaned_data[name] for name in form.Meta.fields}
        )
        messages.success(
            request, f"Thank you. {asset.owner or 'The owning team'} has been asked about “{change.title}”."
        )
        return redirect(change)
    open_requests = asset.change_requests.filter(status__in=ChangeRequest.OPEN_STATES).select_related("requested_by")
    return render(
        request,
        "trust/change_request_form.html",
        {"asset": asset, "form": form, "open_requests": open_requests, "nav": "requests"},
        status=400 if form.errors else 200,
    )


def change_request_list(request):
    data = request.GET.copy()
    if not data:
        data["state"] = "open"
    rows = ChangeRequest.objects.select_related("asset", "requested_by").order_by("-created_at", "-pk")
    filterset = ChangeRequestFilterSet(data, queryset=rows, request=request)
    page = Paginator(filterset.qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "trust/change_request_list.html",
        {"filter": filterset, "page": page, "query": query_without_page(data), "nav": "requests"},
    )


def _change_request(uuid):
    return get_object_or_404(
        ChangeRequest.objects.select_related("asset__owner", "asset__team", "requested_by"), uuid=uuid
    )


def change_request_detail(request, uuid, form=None, status=200):
    change = _change_request(uuid)
    context = {
        "change": change,
        "asset": change.asset,
        "events": change.events.select_related("author"),
        "can_edit": change.asset.can_edit(request.user),
        "transitions": [(value, ChangeRequestStatus(value).label) for value in change.allowed_transitions()],
        "form": form or ChangeRequestTransitionForm(),
        "nav": "requests",
    }
    return render(request, "trust/change_request_detail.html", context, status=status)


@require_POST
def change_request_transition(request, uuid):
    change = _change_request(uuid)
    form = ChangeRequestTransitionForm(request.POST)
    if form.is_valid():
        try:
            change.transition(form.cleaned_data["status"], by=request.user, comment=form.cleaned_data["comment"])
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(
                request, f"The request is now {change.get_status_display().lower()}; the requester was told."
            )
            return redirect(change)
    return change_request_detail(request, uuid, form=form, status=400)


def requirements_review(request, kind, slug):
    asset, _ = asset_for_user(request, kind, slug, edit=True)
    if asset.kind not in REQUIREMENTS_KINDS:
        raise Http404("Requirements reviews are for reports and models.")
    latest = RequirementsReview.objects.filter(asset=asset).select_related("reviewed_by").first()
    form = RequirementsReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        review = RequirementsReview.record(
            asset,
            by=request.user,
            comment=form.cleaned_data["comment"],
            interval_days=form.cleaned_data["interval_days"],
        )
        messages.success(
            request, f"Requirements reviewed. The next review is due on {review.next_review_date:%d %b %Y}."
        )
        return redirect(asset)
    open_requests = asset.change_requests.filter(status__in=ChangeRequest.OPEN_STATES).select_related("requested_by")
    return render(
        request,
        "trust/requirements_review_form.html",
        {"asset": asset, "form": form, "open_requests": open_requests, "latest": latest},
        status=400 if form.errors else 200,
    )
