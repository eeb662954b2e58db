"""The MLOps pages: monitoring per model, champion against challenger, and the models by maturity level."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.choices import JobKind
from core.models import JobRun
from mlops import challenger as challenger_
from mlops.choices import CheckKind, CheckStatus
from mlops.forms import DeliveryHookForm, MonitoringSettingsForm, ScoringForm, ScoringScheduleForm
from mlops.maturity import LEVELS, maturity, with_facts
from mlops.models import DeliveryHook, MonitoringResult, MonitoringRun, ScoringSchedule
from mlops.monitoring import current_ops, ops_of
from mlops.scoring import start_scoring
from registry.access import get_model
from registry.choices import Stage
from registry.models import RegisteredModel
from registry.views import request_promotion_on_page

CHART_RUNS = 60
CHARTED = {CheckKind.FEATURE_DRIFT, CheckKind.PERFORMANCE, CheckKind.PREDICTION_DRIFT}


def _charts(runs, results):
    """Per feature, its PSI over ``runs`` (newest first); per live metric, its value over time. ``results``: those
    runs' results."""
    when = {run.pk: run.window_end for run in runs}
    series = {}
    charted = (result for result in results if result.kind in CHARTED)
    for result in sorted(charted, key=lambda r: when[r.run_id]):
        key = (result.kind, result.name)
        chart = series.setdefault(key, {"x": [], "y": [], "threshold": result.threshold})
        chart["x"].append(when[result.run_id].isoformat())
        chart["y"].append(result.value)
    charts = []
    for index, ((kind, name), data) in enumerate(sorted(series.items())):
        title = f"{name}: PSI" if kind != CheckKind.PERFORMANCE else f"{name} on live rows"
        charts.append(
            {
                "id": f"chart-{index}",
                "title": title,
                "kind": kind,
                "name": name,
                "threshold": data["threshold"],
                "series": [{"name": name, "x": data["x"], "y": data["y"]}],
            }
        )
    return charts  # fmt: skip


def monitoring(request, slug):
    model, can_edit = get_model(request, slug)
    return _page(request, model, can_edit)


def _page(request, model, can_edit, **bound):
    """The monitoring page; a post whose form has errors shows it here, bound (``bound``), with what was typed."""
    ops = current_ops(model)
    version = next((v for v in model.versions.all() if v.stage == Stage.PRODUCTION), None)  # get_model's
    # The charted runs, newest first, and all their results, read once: the latest run, its checks and the recent
    # runs' table are among them.
    runs = list(MonitoringRun.objects.filter(model=model)[:CHART_RUNS])
    every_result = list(MonitoringResult.objects.filter(run__in=runs))
    latest = runs[0] if runs else None
    results = [r for r in every_result if latest and r.run_id == latest.pk]
    challenger = ops.challenger
    comparison = challenger_.compare(model, version, challenger) if version and challenger else None
    charts = _charts(runs, every_result)
    if comparison and comparison.get("rows"):
        days = [day[0] for day in comparison["daily"]]
        charts.append({
            "id": "chart-challenger", "kind": "challenger", "name": "", "threshold": None,
            "title": f"Daily {comparison['difference']['metric']}: v{version.version} against v{challenger.version}",
            "series": [
                {"name": f"champion v{version.version}", "x": days, "y": [day[1] for day in comparison["daily"]]},
                {"name": f"challenger v{challenger.version}", "x": days, "y": [day[2] for day in comparison["daily"]]},
            ],
        })  # fmt: skip
    level, next_level = maturity(model, ops=ops)
    context = {
        "model": model,
        "can_edit": can_edit,
        "ops": ops,
        "version": version,
        "latest": latest,
        "drifting": [r for r in results if r.status == CheckStatus.ALERT and r.kind != CheckKind.PERFORMANCE],
        "results": results,
        "charts": charts,
        "comparison": comparison,
        "challenger": challenger,
        "candidates": [v for v in model.versions.all() if v.stage in ("development", "staging")],
        "runs": runs[:10],
        "level": level,
        "level_name": LEVELS[level],
        "next_level": next_level,
        "nav": "models",
    }  # fmt: skip
    if can_edit:
        context.update({
            "settings_form": bound.get("settings_form") or MonitoringSettingsForm(instance=ops),
            "scoring_form": bound.get("scoring_form") or ScoringForm(model=model, auto_id="score-%s"),
            "schedule_form": bound.get("schedule_form") or ScoringScheduleForm(model=model, auto_id="schedule-%s"),
            "schedules": ScoringSchedule.objects.of_model(model),
            "hooks": DeliveryHook.objects.filter(team=model.asset.team) if model.asset.team else [],
            "hook_form": bound.get("hook_form") or DeliveryHookForm(),
            "now": timezone.now(),
        })  # fmt: skip
    return render(request, "mlops/monitoring.html", context)


def _back(slug, anchor=""):
    return redirect(reverse("mlops:monitoring", kwargs={"slug": slug}) + anchor)


@require_POST
def monitoring_settings(request, slug):
    model, _ = get_model(request, slug, edit=True)
    form = MonitoringSettingsForm(request.POST, instance=ops_of(model))
    if not form.is_valid():
        return _page(request, model, True, settings_form=form)
    form.save()
    messages.success(request, "Monitoring settings saved.")
    return _back(slug, "#settings")


@require_POST
def check_now(request, slug):
    model, _ = get_model(request, slug, edit=True)
    run = JobRun.enqueue(JobKind.MODEL_MONITORING, asset=model.asset, requested_by=request.user,
                         params={"model": model.asset_id})  # fmt: skip
    messages.success(request, run.queued_message("Monitoring run queued."))
    return _back(slug)


@require_POST
def set_challenger(request, slug):
    model, _ = get_model(request, slug, edit=True)
    number = request.POST.get("version", "")
    version = next((v for v in model.versions.all() if str(v.version) == number), None) if number else None
    try:
        challenger_.set_challenger(model, version)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"v{version.version} now scores in shadow." if version else "No challenger now.")
    return _back(slug, "#challenger")


@require_POST
def promote_challenger(request, slug):
    """Ask for the challenger to go into use: the same gate and approval as any promotion."""
    model, _ = get_model(request, slug, edit=True)
    ops = ops_of(model)
    if ops.challenger is None:
        messages.error(request, "This model has no challenger to promote.")
        return _back(slug)
    version = ops.challenger
    version.model = model
    request_promotion_on_page(
        request, model, version, f"Promotion of v{version.version} requested. Another person must approve it."
    )
    return redirect(version.get_absolute_url())


@require_POST
def score(request, slug):
    model, _ = get_model(request, slug, edit=True)
    form = ScoringForm(request.POST, model=model, auto_id="score-%s")
    if form.is_valid():
        version, dataset = form.cleaned_data["version"], form.cleaned_data["dataset"]
        try:
            run = start_scoring(version, dataset, requested_by=request.user, id_column=form.cleaned_data["id_column"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request, run.queued_message(f"Scoring of {dataset.asset.name} by v{version.version} queued.")
            )
            return redirect(run)
    return _page(request, model, True, scoring_form=form)


@require_POST
def schedule_add(request, slug):
    model, _ = get_model(request, slug, edit=True)
    schedule = ScoringSchedule(model=model, created_by=request.user)
    form = ScoringScheduleForm(request.POST, instance=schedule, model=model, auto_id="schedule-%s")
    if not form.is_valid():
        return _page(request, model, True, schedule_form=form)
    form.save()
    messages.success(request, f"Scoring of {schedule.dataset.asset.name} every {schedule.every_hours} h scheduled.")
    return _back(slug, "#scoring")


def _schedule(request, slug, pk):
    model, _ = get_model(request, slug, edit=True)
    return get_object_or_404(ScoringSchedule.objects.of_model(model), pk=pk)


@require_POST
def schedule_active(request, slug, pk):
    """Pause (``active=false``) or resume a schedule."""
    schedule = _schedule(request, slug, pk)
    schedule.active = request.POST.get("active") == "true"
    schedule.save(update_fields=["active"])
    what = f"Scoring of {schedule.dataset.asset.name}"
    messages.success(request, f"{what} resumed." if schedule.active else f"{what} paused.")
    return _back(slug, "#scoring")


@require_POST
def schedule_delete(request, slug, pk):
    schedule = _schedule(request, slug, pk)
    schedule.delete()
    messages.success(request, f"Scheduled scoring of {schedule.dataset.asset.name} deleted.")
    return _back(slug, "#scoring")


@require_POST
def hook_add(request, slug):
    model, _ = get_model(request, slug, edit=True)
    if model.asset.team is None:
        messages.error(request, "Give the model a team first: webhooks belong to a team.")
        return _back(slug, "#hooks")
    form = DeliveryHookForm(request.POST, instance=DeliveryHook(team=model.asset.team, created_by=request.user))
    if not form.is_valid():
        return _page(request, model, True, hook_form=form)
    hook = form.save()
    messages.success(request, f"Webhook added. Its signing secret: {hook.secret}")
    return _back(slug, "#hooks")


def maturity_list(request):
    """Every model with its maturity level; ``?level=`` keeps one level."""
    chosen = request.GET.get("level", "")
    rows = []
    for model in with_facts(RegisteredModel.objects.by_name())[:500]:
        level, next_level = maturity(model)
        if not chosen or str(level) == chosen:
            rows.append({"model": model, "level": level, "name": LEVELS[level], "next": next_level})
    return render(request, "mlops/maturity_list.html",
                  {"rows": rows, "levels": LEVELS, "chosen": chosen, "nav": "models"})  # fmt: skip


def delivery_log(request, slug):
    model, _ = get_model(request, slug, edit=True)
    hook = get_object_or_404(DeliveryHook, pk=request.GET.get("hook"), team=model.asset.team)
    return render(
        request,
        "mlops/deliveries.html",
        {"model": model, "hook": hook, "deliveries": hook.deliveries.all()[:100], "nav": "models"},
    )
