"""Pages of the shared rows: background job runs, the alert history, a person's inbox and alert channels."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from core.choices import Cadence, JobState
from core.filtersets import AlertFilterSet, JobRunFilterSet
from core.forms import PreferenceForm
from core.http import query_without_page, redirect_back
from core.jobs import retry_form_url, steps_of
from core.models import Alert, DetailVisibility, JobRun, Notification, NotificationPreference
from core.notifications import mark_read


def job_list(request):
    """Every job run with its live state; the table refreshes itself while something is queued or running."""
    queryset = JobRun.objects.select_related("asset", "requested_by").order_by("-created_at", "-pk")
    filterset = JobRunFilterSet(request.GET, queryset=queryset, request=request)
    page = Paginator(filterset.qs, 50).get_page(request.GET.get("page"))
    visibility = DetailVisibility(request.user)
    for run in page:
        run.detail_visible = visibility.allows(run)
    live = any(not run.is_finished for run in page)
    context = {
        "filter": filterset,
        "page": page,
        "live": live,
        "query": query_without_page(request.GET),
        "nav": "monitoring",
    }
    if request.htmx:
        return render(request, "core/partials/job_rows.html", context)
    return render(request, "core/job_list.html", context)


def _run_or_404(uuid):
    return get_object_or_404(JobRun.objects.select_related("asset__team", "asset__owner", "requested_by"), uuid=uuid)


def job_detail(request, uuid):
    run = _run_or_404(uuid)
    steps = steps_of(run.kind)
    done = steps.index(run.step) if run.step in steps else 0
    can_retry = run.can_retry(request.user)
    context = {
        "run": run,
        "show_detail": run.shows_detail_to(request.user),
        "can_cancel": run.can_cancel(request.user),
        "can_retry": can_retry,
        "retry_form_url": retry_form_url(run) if can_retry else None,
        "steps": steps,
        "passed_steps": steps[:done],
        "nav": "monitoring",
    }
    if request.htmx:
        return render(request, "core/partials/job_status.html", context)
    return render(request, "core/job_detail.html", context)


@require_POST
def job_cancel(request, uuid):
    run = _run_or_404(uuid)
    if not run.can_cancel(request.user):
        if run.is_finished:
            messages.error(request, "This run has already finished.")
            return redirect(run.get_absolute_url())
        raise PermissionDenied("Only the person who started the run, the asset's owners and staff cancel it.")
    if run.cancel(by=request.user):
        messages.success(request, "Run cancelled.")
    else:
        messages.error(request, "This run finished before it could be cancelled.")
    if request.htmx:
        return job_detail(request, uuid)
    return redirect_back(request, run.get_absolute_url())


@require_POST
def job_retry(request, uuid):
    """Start a failed (or lost) run again with the same parameters, as a new run; whoever could start it may."""
    run = _run_or_404(uuid)
    if not run.can_retry(request.user):
        if run.state != JobState.FAILED:
            messages.error(request, "Only a failed run is started again.")
            return redirect(run.get_absolute_url())
        raise PermissionDenied("Only the person who started the run, the asset's owners and staff start it again.")
    again = run.retry(by=request.user)
    messages.success(request, again.queued_message("Started again. This is the new run; the page updates by itself."))
    return redirect(again.get_absolute_url())


def alert_list(request):
    """Every alert raised: freshness transitions, failed jobs, drift, schema changes."""
    filterset = AlertFilterSet(request.GET, queryset=Alert.objects.select_related("asset__team", "job_run"))
    page = Paginator(filterset.qs, 50).get_page(request.GET.get("page"))
    context = {"filter": filterset, "page": page, "query": query_without_page(request.GET), "nav": "monitoring"}
    return render(request, "core/alert_list.html", context)


def preferences(request):
    """Which channels the signed-in person hears alerts on."""
    preference = NotificationPreference.objects.filter(user=request.user).first() or NotificationPreference(
        user=request.user
    )
    form = PreferenceForm(request.POST or None, instance=preference)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Your alert channels are saved.")
        return redirect("core:preferences")
    teams = request.user.teams.all()
    context = {"form": form, "teams": teams, "cadences": Cadence.choices, "nav": "monitoring"}
    return render(request, "core/preferences.html", context)


INBOX_FILTERS = {
    "mine": ("About what I own", lambda user: Q(asset__owner=user)),
    "team": ("About my teams", lambda user: Q(asset__team__in=user.teams.all())),
}


def inbox(request):
    """Notifications grouped by what they are about and why (asset and cause), newest group first; filters for
    unread, about what I own and about my teams; ticked ones marked read together."""
    notifications = Notification.objects.filter(recipient=request.user).select_related("asset")
    show = request.GET.get("show", "")
    if show == "unread":
        notifications = notifications.filter(read_at__isnull=True)
    about = request.GET.get("about", "")
    if about in INBOX_FILTERS:
        notifications = notifications.filter(INBOX_FILTERS[about][1](request.user))
    page = Paginator(notifications, 50).get_page(request.GET.get("page"))
    query = query_without_page(request.GET)
    context = {
        "page": page,
        "groups": _grouped(page.object_list),
        "query": query,
        "show": show,
        "about": about,
        "filters": [(key, label) for key, (label, _) in INBOX_FILTERS.items()],
    }
    return render(request, "core/inbox.html", context)


def _grouped(notifications):
    """``[{"asset", "kind", "items", "unread"}]``, one per asset and cause, in the order of their newest item."""
    groups = {}
    for notification in notifications:
        key = (notification.asset_id, notification.kind)
        group = groups.setdefault(
            key, {"asset": notification.asset, "kind": notification.get_kind_display(), "items": [], "unread": 0}
        )
        group["items"].append(notification)
        group["unread"] += notification.read_at is None
    return list(groups.values())


def inbox_open(request, pk):
    """Follow a notification to its subject, marking it read on the way."""
    notification = get_object_or_404(Notification.objects.select_related("asset"), pk=pk, recipient=request.user)
    mark_read(request.user, [notification.pk])
    if notification.url and url_has_allowed_host_and_scheme(notification.url, allowed_hosts=set()):
        return HttpResponseRedirect(notification.url)
    if notification.asset:
        return redirect(notification.asset)
    return redirect("core:inbox")


@require_POST
def inbox_mark_read(request, pk):
    get_object_or_404(Notification, pk=pk, recipient=request.user)
    mark_read(request.user, [pk])
    show = "?show=unread" if request.POST.get("show") == "unread" else ""
    return HttpResponseRedirect(reverse("core:inbox") + show)


@require_POST
def inbox_mark_selected_read(request):
    """The ticked notifications (one's own only: ``mark_read`` filters by recipient) marked read at once."""
    ids = [int(value) for value in request.POST.getlist("ids") if value.isdigit()]
    count = mark_read(request.user, ids) if ids else 0
    messages.success(request, f"Marked {count} notification{'s' if count != 1 else ''} as read.")
    back = request.POST.get("back", "")
    return HttpResponseRedirect(reverse("core:inbox") + (f"?{back}" if back else ""))


@require_POST
def inbox_mark_all_read(request):
    count = mark_read(request.user)
    messages.success(request, f"Marked {count} notification{'s' if count != 1 else ''} as read.")
    return redirect("core:inbox")
