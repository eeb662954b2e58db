import json
import re

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from catalog.access import asset_for_user
from catalog.lineage import MAX_DEPTH, walk
from catalog.models import Asset
from core.http import query_without_page, redirect_back
from trust import attachments, watching
from trust.badges import badge_for, render_svg
from trust.choices import DeprecationState, IssueStatus
from trust.dependencies import consumers_of
from trust.filtersets import DataIssueFilterSet
from trust.forms import (
    AcknowledgeForm,
    CertificationForm,
    CommentForm,
    DataIssueForm,
    DeprecationConditionsForm,
    DeprecationForm,
    ReviewForm,
    TransitionForm,
)
from trust.models import BadgeLink, Certification, DataIssue, Deprecation, DeprecationImpact, Review
from trust.rules import RULES


def _form_errors(form, exc):
    """Put a model ValidationError raised by a domain method next to the fields it names."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def open_issues_around(asset, text=""):
    """Open issues on the asset and everything upstream of it: those sharing words with ``text`` first (marked
    ``similar``), then the asset's own before upstream ones."""
    upstream = walk([asset.pk], direction="up", max_depth=MAX_DEPTH)
    issues = list(
        DataIssue.objects.filter(asset_id__in=[asset.pk, *upstream], status__in=DataIssue.OPEN_STATES).select_related(
            "asset"
        )
    )
    words = _words(text)
    for issue in issues:
        issue.similar = len(words & _words(f"{issue.title} {issue.description}"))
    return sorted(issues, key=lambda issue: (-issue.similar, issue.asset_id != asset.pk, issue.severity))


def _words(text):
    # Short words ("the", "on", "is") would make everything look similar.
    return {word for word in re.findall(r"\w+", text.lower()) if len(word) > 3}


# --- issues ----------------------------------------------------------------------------------------------------
def report_problem(request, kind, slug):
    asset, _ = asset_for_user(request, kind, slug)
    if request.htmx and request.method == "GET":
        suggestions = open_issues_around(asset, request.GET.get("title", ""))
        return render(request, "trust/partials/issue_suggestions.html", {"asset": asset, "suggestions": suggestions})
    form = DataIssueForm(request.POST or None, request.FILES or None, asset=asset)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in form.Meta.fields}
        fields["attachment"] = fields["attachment"] or ""
        issue = DataIssue.report(asset, by=request.user, **fields)
        messages.success(request, f"Thank you. {asset.owner or 'The owning team'} has been told about “{issue.title}”.")
        return redirect(issue)
    return render(
        request,
        "trust/issue_form.html",
        {
            "asset": asset,
            "form": form,
            "suggestions": open_issues_around(asset, request.POST.get("title", "")),
            "nav": "issues",
        },
        status=400 if form.errors else 200,
    )


def issue_list(request):
    data = request.GET.copy()
    if not data:
        data["state"] = "open"
    issues = DataIssue.objects.select_related("asset", "reported_by").order_by("-created_at", "-pk")
    filterset = DataIssueFilterSet(data, queryset=issues, request=request)
    page = Paginator(filterset.qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "trust/issue_list.html",
        {"filter": filterset, "page": page, "query": query_without_page(data), "nav": "issues"},
    )


def _issue(uuid):
    return get_object_or_404(DataIssue.objects.select_related("asset__owner", "asset__team", "reported_by"), uuid=uuid)


def issue_detail(request, uuid, transition_form=None, comment_form=None, status=200):
    issue = _issue(uuid)
    can_edit = issue.asset.can_edit(request.user)
    duplicates = (
        DataIssue.objects.filter(asset=issue.asset).exclude(pk=issue.pk).order_by("-created_at")[:50]
        if can_edit
        else []
    )
    context = {
        "issue": issue,
        "asset": issue.asset,
        "events": issue.events.select_related("author"),
        "can_edit": can_edit,
        "transitions": [(status, IssueStatus(status).label) for status in issue.allowed_transitions()],
        "duplicate_candidates": duplicates,
        "transition_form": transition_form or TransitionForm(),
        "comment_form": comment_form or CommentForm(),
        "nav": "issues",
    }
    return render(request, "trust/issue_detail.html", context, status=status)


@require_POST
def issue_transition(request, uuid):
    issue = _issue(uuid)
    form = TransitionForm(request.POST)
    if form.is_valid():
        duplicate_of = None
        if form.cleaned_data["duplicate_of"]:
            duplicate_of = DataIssue.objects.filter(uuid=form.cleaned_data["duplicate_of"]).first()
        try:
            issue.transition(
                form.cleaned_data["status"],
                by=request.user,
                comment=form.cleaned_data["comment"],
                duplicate_of=duplicate_of,
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, f"The issue is now {issue.get_status_display().lower()}.")
            return redirect(issue)
    return issue_detail(request, uuid, transition_form=form, status=400)


@require_POST
def issue_comment(request, uuid):
    issue = _issue(uuid)
    form = CommentForm(request.POST)
    if form.is_valid():
        issue.comment(by=request.user, body=form.cleaned_data["body"])
        messages.success(request, "Comment added; the owner, the reporter and the watchers were told.")
        return redirect(f"{issue.get_absolute_url()}#history")
    return issue_detail(request, uuid, comment_form=form, status=400)


def issue_attachment(request, uuid):
    issue = _issue(uuid)
    # A committed row whose file move a dying process left undone gets it finished here.
    if not issue.attachment or not attachments.ensure_in_place(issue.attachment.name):
        raise Http404("This issue has no attachment.")
    # Always a download, never rendered inline: an uploaded file must not run in the portal's origin.
    response = FileResponse(issue.attachment.open("rb"), as_attachment=True)
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- watching, reviews, certification ------------------------------------------------------------------------
def _back(request, asset):
    return redirect_back(request, asset)


@require_POST
def watch(request, kind, slug):
    asset, _ = asset_for_user(request, kind, slug)
    watching.watch(asset, request.user)
    messages.success(request, f"You are watching {asset.name}: its changes, issues and alerts reach your inbox.")
    return _back(request, asset)


@require_POST
def unwatch(request, kind, slug):
    asset, _ = asset_for_user(request, kind, slug)
    watching.unwatch(asset, request.user)
    messages.success(request, f"You no longer watch {asset.name}.")
    return _back(request, asset)


def mark_reviewed(request, kind, slug):
    asset, _ = asset_for_user(request, kind, slug, edit=True)
    form = ReviewForm(request.POST or None, initial={"interval_days": asset.review_interval_days or 90})
    if request.method == "POST" and form.is_valid():
        review = Review.mark_reviewed(
            asset,
            by=request.user,
            comment=form.cleaned_data["comment"],
            interval_days=form.cleaned_data["interval_days"],
        )
        messages.success(request, f"Reviewed. The next review is due on {review.next_review_date:%d %b %Y}.")
        return redirect(asset)
    reviews = asset.reviews.select_related("reviewed_by")[:20]
    return render(request, "trust/review_form.html", {"asset": asset, "form": form, "reviews": reviews})


def certify(request, kind, slug):
    asset, _ = asset_for_user(request, kind, slug)
    if asset.owner_id != request.user.pk:
        raise PermissionDenied("Only the owner of an asset can certify it.")
    form = CertificationForm(request.POST or None, asset=asset, user=request.user)
    if request.method == "POST" and form.is_valid():
        certification = Certification.certify(
            asset, by=request.user, expires_on=form.cleaned_data["expires_on"], statement=form.cleaned_data["statement"]
        )
        messages.success(request, f"Certified until {certification.expires_on:%d %b %Y}.")
        return redirect(asset)
    history = asset.certifications.select_related("certified_by")[:20]
    return render(request, "trust/certify_form.html", {"asset": asset, "form": form, "history": history})


# --- deprecation ------------------------------------------------------------------------------------------------
def deprecation_conditions(request, kind, slug):
    asset, _ = asset_for_user(request, kind, slug, edit=True)
    form = DeprecationConditionsForm(request.POST or None, instance=asset)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Recorded. The conditions show on its page.")
        return redirect(asset)
    return render(request, "trust/deprecation_conditions_form.html", {"asset": asset, "form": form})


def propose_deprecation(request, kind, slug):
    asset, _ = asset_for_user(request, kind, slug, edit=True)
    form = DeprecationForm(request.POST or None, asset=asset)
    if request.method == "POST" and form.is_valid():
        try:
            deprecation = Deprecation.propose(
                asset,
                by=request.user,
                reason=form.cleaned_data["reason"],
                sunset_date=form.cleaned_data["sunset_date"],
                replacement=form.cleaned_data["replacement"],
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            count = deprecation.impacts.count()
            messages.success(
                request,
                f"{asset.name} is deprecated. The owners of {count} downstream asset{'s' * (count != 1)} were told.",
            )
            return redirect(deprecation)
    downstream_ids = walk([asset.pk], direction="down", max_depth=MAX_DEPTH)
    downstream = Asset.objects.with_people().filter(pk__in=downstream_ids).order_by("name")
    return render(
        request,
        "trust/deprecation_form.html",
        {"asset": asset, "form": form, "downstream": downstream, "consumers": consumers_of(asset)},
        status=400 if form.errors else 200,
    )


def _deprecation(uuid):
    return get_object_or_404(
        Deprecation.objects.select_related("asset__owner", "asset__team", "replacement", "proposed_by"), uuid=uuid
    )


def deprecation_detail(request, uuid):
    deprecation = _deprecation(uuid)
    impacts = list(deprecation.impacts.select_related("asset__owner", "asset__team", "acknowledged_by"))
    for impact in impacts:
        impact.can_acknowledge = (
            deprecation.state == DeprecationState.ANNOUNCED
            and impact.acknowledged_at is None
            and impact.asset.can_edit(request.user)
        )
    acknowledged = sum(1 for impact in impacts if impact.acknowledged_at)
    return render(
        request,
        "trust/deprecation_detail.html",
        {
            "deprecation": deprecation,
            "asset": deprecation.asset,
            "impacts": impacts,
            "acknowledged": acknowledged,
            "can_withdraw": deprecation.state == DeprecationState.ANNOUNCED
            and deprecation.asset.can_edit(request.user),
            "acknowledge_form": AcknowledgeForm(),
        },
    )


@require_POST
def deprecation_withdraw(request, uuid):
    deprecation = _deprecation(uuid)
    try:
        deprecation.withdraw(by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, f"Withdrawn: {deprecation.asset.name} stays in use. Everyone told has been told again."
        )
    return redirect(deprecation)


@require_POST
def deprecation_acknowledge(request, uuid, kind, slug):
    deprecation = _deprecation(uuid)
    impact = get_object_or_404(
        DeprecationImpact.objects.select_related("asset"), deprecation=deprecation, asset__kind=kind, asset__slug=slug
    )
    form = AcknowledgeForm(request.POST)
    if not form.is_valid():
        # Never recorded without the note, nor with it cut short.
        messages.error(request, "Nothing recorded: " + " ".join(form.errors.get("note", ["the note is not valid."])))
        return redirect(deprecation)
    try:
        impact.acknowledge(by=request.user, note=form.cleaned_data["note"])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Recorded: {impact.asset.name} has moved off {deprecation.asset.name}.")
    return redirect(deprecation)


# --- badges -----------------------------------------------------------------------------------------------------
def _badge_response(badge, fmt, detailed):
    if fmt == "svg":
        response = HttpResponse(render_svg(badge), content_type="image/svg+xml; charset=utf-8")
        response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    else:
        response = HttpResponse(json.dumps(badge.as_dict(detailed=detailed)), content_type="application/json")
    response["Cache-Control"] = "private, max-age=60"
    response["X-Content-Type-Options"] = "nosniff"
    response["X-Robots-Tag"] = "noindex"
    return response


def badge(request, kind, slug, fmt):
    """The badge for signed-in users. ``/badges/`` skips the login middleware, so this view checks for itself,
    before looking anything up: a stranger learns nothing, not even whether the asset exists."""
    if not request.user.is_authenticated:
        return HttpResponse("Sign in, or use the asset's secret badge link.", status=401, content_type="text/plain")
    asset = get_object_or_404(Asset, kind=kind, slug=slug)
    return _badge_response(badge_for(asset), fmt, detailed=True)


def secret_badge(request, token, fmt):
    """The embeddable badge: anyone with the link sees the level and which rules pass, nothing more."""
    link = get_object_or_404(BadgeLink.objects.select_related("asset"), token=token)
    response = _badge_response(badge_for(link.asset), fmt, detailed=False)
    response["Cache-Control"] = "public, max-age=60"
    if fmt == "json":
        response["Access-Control-Allow-Origin"] = "*"
    return response


def badge_embed(request, kind, slug):
    asset, can_edit = asset_for_user(request, kind, slug)
    link = BadgeLink.objects.filter(asset=asset).first() if can_edit else None
    if request.method == "POST":
        link = BadgeLink.rotate(asset, by=request.user)
        messages.success(request, "A new secret link was made. Embeds using the old one stop working now.")
        return redirect("trust:badge_embed", kind=kind, slug=slug)
    return render(
        request,
        "trust/badge_embed.html",
        {"asset": asset, "badge": badge_for(asset), "link": link, "can_edit": can_edit},
    )


def help_page(request):
    return render(request, "trust/help.html", {"rules": RULES})
