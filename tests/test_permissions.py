"""One refusal test per write route, generated from the URL configuration.

Every route whose view accepts POST, PUT, PATCH or DELETE is found in ``portal.urls`` (``write_routes``). Each one is
either in ``CASES`` (how to build the object it acts on and a request the right person may send) or in ``OPEN``
(open to anyone signed in, with the reason). ``test_every_write_route_is_covered`` fails when a new write route is
in neither, so a new view cannot ship without its refusal test. For every case:

- anonymous is sent to sign in (a page: a redirect to the login page; the API: 401/403), and nothing changes;
- the outsider (signed in, not owner, not in the team, not staff) is refused (403, or 404 where the object is
  hidden from them), and nothing changes in the database;
- the person who may do it (the owner unless the case says otherwise) does it: the request is valid, so the
  outsider's refusal is about who they are, not about what they sent.
"""

import inspect
from datetime import timedelta
from typing import NamedTuple

import pytest
from django.db import connection
from django.test import Client
from django.urls import URLResolver, get_resolver
from django.utils import timezone

from accounts.models import ApiToken
from catalog.choices import AssetKind, SourceKind
from catalog.models import Watch
from core.choices import JobKind
from core.models import JobRun, Notification
from monitoring.choices import FreshnessMethod
from registry.choices import ChecklistItem, Stage
from registry.models import Assumption, ModelUser
from registry.services import request_promotion
from tests import factories
from tests.monitoring.conftest import CHURN_COLUMNS
from tests.registry.helpers import model_with_card, tick_everything
from trust.models import ChangeRequest, Dependency, Deprecation

pytestmark = pytest.mark.django_db
WRITE_METHODS = ("post", "put", "patch", "delete")
LOGIN = "/accounts/login/"


# --- finding the write routes --------------------------------------------------------------------------------------
def _patterns(patterns, prefix="", namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _patterns(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif pattern.name:
            yield prefix + str(pattern.pattern), namespace + pattern.name, pattern.callback


def _methods_allowed_by_decorators(view):
    """The methods of ``require_http_methods`` (``require_POST`` …) somewhere in the view's decorators, or None."""
    while view is not None:
        code = getattr(view, "__code__", None)
        if code is not None and "request_method_list" in code.co_freevars:
            cell = view.__closure__[code.co_freevars.index("request_method_list")]
            return {method.lower() for method in cell.cell_contents}
        view = getattr(view, "__wrapped__", None)
    return None


def _write_methods(view):
    if hasattr(view, "cls"):  # Django REST framework: a viewset's routed actions, or an APIView's handlers
        actions = getattr(view, "actions", None)
        methods = set(actions) if actions else {name for name in view.cls.http_method_names if hasattr(view.cls, name)}
    elif hasattr(view, "view_class"):
        methods = {name for name in WRITE_METHODS if hasattr(view.view_class, name)}
    elif (allowed := _methods_allowed_by_decorators(view)) is not None:
        methods = allowed
    else:  # a plain function view takes every method: it writes if it reads what was posted
        source = inspect.getsource(inspect.unwrap(view))
        methods = {"post"} if "request.POST" in source or '"POST"' in source else set()
    return methods & set(WRITE_METHODS)


def write_routes():
    """``{(route name, method)}`` of every write route, except Django's admin (staff only, with its own permission
    checks)."""
    found = set()
    for _, name, view in _patterns(get_resolver().url_patterns):
        if not name.startswith("admin:"):
            found |= {(name, method) for method in _write_methods(view)}
    return found


# --- what the cases are built from -----------------------------------------------------------------------------------
class People(NamedTuple):
    owner: object
    teammate: object
    outsider: object
    staff: object
    team: object
    other: object  # someone else again: a reporter, the owner of an unrelated asset


class Request(NamedTuple):
    method: str
    url: str
    data: dict | None = None

    @property
    def api(self):
        return self.url.startswith("/api/")

    def send(self, client):
        if self.api:
            return getattr(client, self.method)(self.url, self.data or {}, content_type="application/json")
        return getattr(client, self.method)(self.url, self.data or {})


class Case(NamedTuple):
    build: object  # People -> Request
    by: str = "owner"  # the persona who may send it
    refused: int = 403  # what the outsider gets: 404 where the object is hidden from them
    outsider_xfail: str = ""  # a known defect in the outsider's refusal, named for the lead
    writes: bool = True  # False for a POST that only computes for those who may edit (the card editor's meter)


# A manifest with one seed, on the SQLite source of the cases: the import adds its dataset.
DBT_SEED = {
    "manifest.json": {
        "metadata": {
            "dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json",
            "adapter_type": "sqlite",
            "project_name": "empty",
        },
        "nodes": {
            "seed.shop.orders": {
                "resource_type": "seed",
                "name": "orders",
                "alias": "orders",
                "database": "main",
                "schema": "main",
                "columns": {},
                "depends_on": {"nodes": []},
            }
        },
        "sources": {},
        "exposures": {},
    }
}


# A Great Expectations validation result with one expectation, as ``result.to_json_dict()`` writes it.
# A Soda scan result as `soda scan -srf` writes it, reduced to what the portal reads.
SODA_RESULT = {
    "definitionName": "orders",
    "scanStartTimestamp": "2026-11-28T06:00:00+00:00",
    "checks": [{"name": "row_count > 0", "table": "orders", "outcome": "pass", "definition": "checks for orders"}],
}
GE_RESULT = {
    "success": True,
    "suite_name": "orders",
    "results": [
        {
            "success": True,
            "expectation_config": {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "id"}},
            "result": {"unexpected_count": 0},
        }
    ],
    "meta": {"validation_time": "2026-12-06T10:00:00+00:00", "validation_id": "v1"},
}


def _today(days):
    return (timezone.localdate() + timedelta(days=days)).isoformat()


def _report(p, name="Sales"):
    return factories.report(name, owner=p.owner, team=p.team).asset


def _dataset(p, name="Orders"):
    return factories.dataset(name, owner=p.owner, team=p.team)


def _source(p):
    return factories.source("Shop", SourceKind.SQLITE, {"path": "shop.sqlite3"}, owner=p.owner, team=p.team)


def _model(p, **options):
    model, version = model_with_card(p.owner, **options)
    return model, version, f"/models/{model.asset.slug}"


def _staged(p):
    """A model whose version 1 may be promoted: complete card, in validation, every checklist item ticked."""
    model, version = model_with_card(p.owner)
    version.change_stage(Stage.STAGING, p.owner)
    tick_everything(version, p.owner)
    return model


def _pending_promotion(p):
    model = _staged(p)
    return model, request_promotion(model, model.versions.get(version=1), p.owner, note="Ready")


def _card_with_two_revisions(p):
    model, _, base = _model(p, complete=False)
    model.card.edit({"results": "First."}, p.owner, base_revision=0)
    model.card.edit({"results": "Second."}, p.owner, base_revision=1)
    return model, base


def _trainable(p):
    model = factories.registered_model("Churn predictor", owner=p.owner, team=p.team)
    dataset = factories.dataset(
        "Churn set", qualified_name="ml/churn.csv", columns=CHURN_COLUMNS, owner=p.owner, team=p.team
    )
    dataset.format = "csv"
    dataset.save(update_fields=["format"])
    return model, dataset


TRAINING = {"target": "churned", "algorithm": "logistic_regression", "test_size": 0.2, "seed": 1}


def _deprecation(p):
    asset = _dataset(p).asset
    factories.edge(asset, factories.report("Downstream", owner=p.other))
    return Deprecation.propose(asset, by=p.owner, reason="Replaced by v2.", sunset_date=_today(90))


def _deprecation_of_an_input(p):
    """Someone else's dataset, deprecated, feeding the owner's report: the owner acknowledges for the report."""
    upstream = factories.dataset("Orders", owner=p.other)
    report = _report(p)
    factories.edge(upstream, report)
    deprecation = Deprecation.propose(upstream.asset, by=p.other, reason="Replaced.", sunset_date=_today(90))
    return deprecation, report


def _issue(p):
    return factories.data_issue(_dataset(p), p.other, title="Totals are off")


def _policy(p, **fields):
    return factories.freshness_policy(_dataset(p), **fields)


POLICY_FORM = {"method": "heartbeat", "schedule_kind": "period", "period": "1 00:00:00", "grace": "02:00:00",
               "time_zone": "UTC", "timeout_seconds": 10}  # fmt: skip
REPORT_FORM = {
    "name": "Sales",
    "description": "Changed.",
    "lifecycle": "active",
    "detail-url": "https://bi.example.com",
}


def _kind_api(kind):
    """The cases of one kind's detail endpoint: replace, change, delete."""
    make = {
        AssetKind.SOURCE: lambda p: (_source(p).asset.slug, {"name": "Shop", "source_kind": "sqlite"}),
        AssetKind.DATASET: lambda p: (_dataset(p).asset.slug, {"name": "Orders", "source": _source(p).asset.slug,
                                                                 "qualified_name": "orders"}),
        AssetKind.REPORT: lambda p: (_report(p).slug, {"name": "Sales", "url": "https://bi.example.com"}),
        AssetKind.PIPELINE: lambda p: (factories.pipeline("ETL", owner=p.owner).asset.slug, {"name": "ETL"}),
    }[kind]  # fmt: skip

    def request(method):
        def build(p):
            slug, payload = make(p)
            data = {"description": "Changed."} if method == "patch" else {**payload, "description": "Changed."}
            return Request(method, f"/api/v1/{kind}s/{slug}/", None if method == "delete" else data)

        return build

    return {(f"{kind}-detail", method): Case(request(method)) for method in ("put", "patch", "delete")}


def _token_revoke(p):
    return Request("post", f"/accounts/tokens/{ApiToken.issue(p.owner, 'ci')[0].pk}/revoke/")


def _convention(p):
    data = {"kind": "dataset", "pattern": "[a-z_]+", "explanation": "Use snake_case."}
    return Request("post", "/catalog/conventions/", data)


def _asset_edit(p):
    data = {**REPORT_FORM, "owner": p.owner.pk, "team": p.team.pk}
    return Request("post", f"{_report(p).get_absolute_url()}edit/", data)


def _term_edit(p):
    from glossary.models import Term

    term = Term.objects.create(name="Churn", definition="Customers who left.", owner=p.owner, team=p.team)
    data = {"name": "Churn", "definition": "Customers who left in 90 days.", "owner": p.owner.pk, "team": p.team.pk}
    return Request("post", f"/glossary/{term.slug}/edit/", data)


def _lineage_add(p, api=False):
    other = factories.dataset("Orders", owner=p.other).asset
    report = _report(p)
    if api:
        return Request("post", f"/api/v1/assets/{report.uuid}/lineage/", {"direction": "up", "other": str(other.uuid)})
    return Request("post", f"{report.get_absolute_url()}lineage/add/", {"direction": "up", "other": str(other.uuid)})


def _model_edit(p):
    data = {"name": "Churn predictor", "team": p.team.pk, "summary": "Changed.", "goal": "Keep customers."}
    return Request("post", f"{_model(p)[2]}/edit/", data)


def _card_edit(p):
    return Request("post", f"{_model(p, complete=False)[2]}/card/edit/", {"base_revision": 0, "results": "New."})


def _waive(p):
    from registry.models import Direction
    from registry.services import set_quality_gates

    model, _, base = _model(p)
    set_quality_gates(model, [("f1", "test", Direction.AT_LEAST, 0.9)])
    return Request("post", f"{base}/versions/1/waivers/", {"gate": "f1/test", "reason": "Pilot only."})


OPS_FORM = {"psi_threshold": 0.3, "ks_p_value": 0.01, "missing_rate_limit": 0.1, "out_of_range_limit": 0.05,
            "retrain_every_days": 7}  # fmt: skip


def _prediction_row(prediction_id="p1"):
    return {"id": prediction_id, "time": timezone.now().isoformat(), "features": {"x": 1}, "prediction": 1}


def _outcome(p):
    from mlops.ingest import log_predictions

    _, version, base = _model(p)
    log_predictions(version, [_prediction_row()])
    return Request("post", f"/api/v1{base}/versions/1/outcomes/", {"id": "p1", "value": 1})


def _hook_delete(p):
    from mlops.models import DeliveryHook

    model, _, base = _model(p)
    hook = DeliveryHook.objects.create(team=model.asset.team, url="https://ci.example.com/hook", created_by=p.owner)
    return Request("delete", f"/api/v1{base}/hooks/{hook.pk}/")


def _schedule(p, method):
    from mlops.models import ScoringSchedule

    model, _, base = _model(p)
    dataset = _dataset(p)
    dataset.format = "csv"
    dataset.save(update_fields=["format"])
    if method == "post":
        return Request("post", f"/api/v1{base}/scoring-schedules/", {"dataset": dataset.asset.slug, "version": 1})
    schedule = ScoringSchedule.objects.create(model=model, dataset=dataset, created_by=p.owner)
    data = {"every_hours": 2} if method == "patch" else None
    return Request(method, f"/api/v1{base}/scoring-schedules/{schedule.pk}/", data)


def _schedule_page(p, action):
    """The monitoring page's schedule forms: ``add``, ``active`` (pause) and ``delete``."""
    from mlops.models import ScoringSchedule

    model, _, _ = _model(p)
    dataset = _dataset(p)
    dataset.format = "csv"
    dataset.save(update_fields=["format"])
    base = f"/mlops/{model.asset.slug}/schedules/"
    if action == "add":
        return Request("post", base, {"dataset": f"dataset/{dataset.asset.slug}", "every_hours": "6"})
    schedule = ScoringSchedule.objects.create(model=model, dataset=dataset, created_by=p.owner)
    return Request("post", f"{base}{schedule.pk}/{action}/", {"active": "false"} if action == "active" else None)


def _promote_challenger(p):
    from mlops.challenger import set_challenger

    model = _staged(p)
    set_challenger(model, model.versions.get(version=1))
    return Request("post", f"/mlops/{model.asset.slug}/challenger/promote/", {"note": "Better"})


def _score(p, api=False):
    model, _, base = _model(p)
    dataset = _dataset(p)
    dataset.format = "csv"
    dataset.save(update_fields=["format"])
    if api:
        return Request("post", f"/api/v1{base}/versions/1/scoring/", {"dataset": dataset.asset.slug})
    return Request(
        "post", f"/mlops/{model.asset.slug}/score/", {"version": "1", "dataset": f"dataset/{dataset.asset.slug}"}
    )


def _version_create(p):
    data = {"algorithm": "GBM", "split": "test", "metrics": "f1 = 0.8"}
    return Request("post", f"{_model(p)[2]}/versions/new/", data)


def _tick(p, api=False):
    data = {"item": ChecklistItem.CODE_REVIEW, "link": "https://review.example.com/1"}
    return Request("post", f"{'/api/v1' if api else ''}{_model(p)[2]}/versions/1/checklist/", data)


def _check_now(p):
    policy = _policy(p, method=FreshnessMethod.FILE, file_path="orders.csv")
    return Request("post", f"/monitoring/freshness/{policy.asset.uuid}/check/")


def _certify(p):
    return Request("post", f"/assets/dataset/{_certifiable(p).slug}/certify/", {"expires_on": _today(90)})


def _propose(p, api=False):
    asset = _dataset(p).asset
    data = {"reason": "Replaced by v2.", "sunset_date": _today(90)}
    if api:
        return Request("post", "/api/v1/deprecations/", {**data, "asset": str(asset.uuid)})
    return Request("post", f"/assets/dataset/{asset.slug}/deprecate/", data)


def _conditions(p):
    data = {"deprecation_conditions": "When v2 covers every store."}
    return Request("post", f"/assets/dataset/{_dataset(p).asset.slug}/deprecation-conditions/", data)


def _model_api(method):
    def build(p):
        data = {"summary": "Changed."} if method == "patch" else {"name": "Churn predictor", "summary": "Changed."}
        return Request(method, f"/api/v1{_model(p)[2]}/", data)

    return build


def _card_api(method):
    def build(p):
        return Request(method, f"/api/v1{_model(p, complete=False)[2]}/card/", {"results": "New.", "revision": 0})

    return build


def _version_api(p):
    data = {"algorithm": "GBM", "metrics": [{"name": "f1", "value": 0.8}]}
    return Request("post", f"/api/v1{_model(p)[2]}/versions/", data)


def _policy_api(p):
    data = {"asset": str(_dataset(p).asset.uuid), "method": "heartbeat", "period": "1 00:00:00", "grace": "01:00:00"}
    return Request("post", "/api/v1/freshness-policies/", data)


def _transition(p, api=False):
    issue = _issue(p)
    url = f"/api/v1/issues/{issue.uuid}/transition/" if api else f"{issue.get_absolute_url()}transition/"
    return Request("post", url, {"status": "acknowledged"})


def _maintenance(p):
    ends = (timezone.localtime() + timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M")
    return Request("post", f"/monitoring/maintenance/{_dataset(p).asset.uuid}/", {"ends_at": ends, "reason": "Upgrade"})


def _maintenance_end(p):
    from monitoring import maintenance

    window = maintenance.snooze(_dataset(p).asset, by=p.owner, reason="Upgrade", hours=2)
    return Request("post", f"/monitoring/maintenance/windows/{window.pk}/end/")


CASES = {
    # --- pages: accounts and catalog
    ("accounts:token_revoke", "post"): Case(_token_revoke, refused=404),
    ("catalog:conventions", "post"): Case(_convention, by="staff"),
    ("catalog:asset_edit", "post"): Case(_asset_edit),
    ("catalog:asset_delete", "post"): Case(lambda p: Request("post", f"{_report(p).get_absolute_url()}delete/")),
    ("catalog:lineage_add", "post"): Case(_lineage_add),
    ("catalog:lineage_remove", "post"): Case(lambda p: _lineage_remove(p)),
    ("glossary:term_edit", "post"): Case(_term_edit),
    ("catalog:scan", "post"): Case(lambda p: Request("post", f"{_source(p).asset.get_absolute_url()}scan/")),
    # --- pages: registry
    ("registry:model_edit", "post"): Case(_model_edit),
    ("registry:card_edit", "post"): Case(_card_edit),
    # the meter as the owner types: computes, writes nothing, and only for who may edit the card
    ("registry:card_meter", "post"): Case(
        lambda p: Request("post", f"{_model(p)[2]}/card/meter/", {"comments": "x"}), writes=False
    ),
    ("registry:card_restore", "post"): Case(
        lambda p: Request("post", f"{_card_with_two_revisions(p)[1]}/card/revisions/1/restore/", {"base_revision": 2})
    ),
    ("registry:assumption_add", "post"): Case(
        lambda p: Request("post", f"{_model(p)[2]}/assumptions/", {"statement": "Stable.", "valid_for_days": 30})
    ),
    ("registry:assumption_verify", "post"): Case(lambda p: _assumption(p, {"action": "verify"})),
    ("registry:model_user_add", "post"): Case(
        lambda p: Request("post", f"{_model(p)[2]}/users/", {"name": "CRM team", "kind": "internal"})
    ),
    ("registry:model_user_delete", "post"): Case(lambda p: _model_user_delete(p)),
    ("registry:version_create", "post"): Case(_version_create),
    ("registry:version_stage", "post"): Case(
        lambda p: Request("post", f"{_model(p)[2]}/versions/1/stage/", {"to": Stage.STAGING})
    ),
    ("registry:checklist_tick", "post"): Case(_tick),
    ("registry:quality_gates", "post"): Case(
        lambda p: Request("post", f"{_model(p)[2]}/gates/", {"thresholds": "f1 test >= 0.5"})
    ),
    ("registry:gate_waive", "post"): Case(lambda p: _waive(p), by="teammate"),
    ("registry:promotion_request", "post"): Case(
        lambda p: Request("post", f"/models/{_staged(p).asset.slug}/versions/1/promotion/", {"note": "Ready"})
    ),
    ("registry:promotion_decide", "post"): Case(
        lambda p: _decide_page(p),
        by="teammate",
    ),
    # --- pages: mlops
    ("mlops:settings", "post"): Case(
        lambda p: Request("post", f"/mlops/{_model(p)[0].asset.slug}/settings/", OPS_FORM)
    ),
    ("mlops:check_now", "post"): Case(lambda p: Request("post", f"/mlops/{_model(p)[0].asset.slug}/check/")),
    ("mlops:set_challenger", "post"): Case(
        lambda p: Request("post", f"/mlops/{_model(p)[0].asset.slug}/challenger/", {"version": "1"})
    ),
    ("mlops:promote_challenger", "post"): Case(lambda p: _promote_challenger(p)),
    ("mlops:score", "post"): Case(lambda p: _score(p)),
    ("mlops:schedule_add", "post"): Case(lambda p: _schedule_page(p, "add")),
    ("mlops:schedule_active", "post"): Case(lambda p: _schedule_page(p, "active")),
    ("mlops:schedule_delete", "post"): Case(lambda p: _schedule_page(p, "delete")),
    ("mlops:hook_add", "post"): Case(
        lambda p: Request("post", f"/mlops/{_model(p)[0].asset.slug}/hooks/", {"url": "https://ci.example.com/hook"})
    ),
    # --- pages: monitoring
    ("monitoring:maintenance", "post"): Case(_maintenance),
    ("monitoring:maintenance_end", "post"): Case(_maintenance_end),
    ("monitoring:freshness_detail", "post"): Case(
        lambda p: Request("post", f"/monitoring/freshness/{_dataset(p).asset.uuid}/", POLICY_FORM)
    ),
    ("monitoring:freshness_check_now", "post"): Case(_check_now),
    ("core:job_cancel", "post"): Case(lambda p: Request("post", f"/jobs/{_queued_run(p).uuid}/cancel/")),
    ("core:job_retry", "post"): Case(lambda p: Request("post", f"/jobs/{_failed_run(p).uuid}/retry/")),
    ("registry:train", "post"): Case(lambda p: _train_page(p)),
    # --- pages: trust
    ("core:inbox_mark_read", "post"): Case(
        lambda p: Request("post", f"/inbox/{_notification(p).pk}/read/"), refused=404
    ),
    ("trust:issue_transition", "post"): Case(_transition),
    ("trust:mark_reviewed", "post"): Case(
        lambda p: Request("post", f"/assets/dataset/{_dataset(p).asset.slug}/review/", {"interval_days": 30})
    ),
    ("trust:certify", "post"): Case(_certify),
    ("trust:propose_deprecation", "post"): Case(_propose),
    ("trust:deprecation_conditions", "post"): Case(_conditions),
    ("trust:badge_embed", "post"): Case(lambda p: Request("post", f"/assets/dataset/{_dataset(p).asset.slug}/badge/")),
    ("trust:deprecation_withdraw", "post"): Case(
        lambda p: Request("post", f"{_deprecation(p).get_absolute_url()}withdraw/")
    ),
    ("trust:deprecation_acknowledge", "post"): Case(lambda p: _acknowledge_page(p)),
    ("trust:dependency_acknowledge", "post"): Case(lambda p: _dependency_action(p, "acknowledge")),
    ("trust:dependency_decline", "post"): Case(lambda p: _dependency_action(p, "decline")),
    ("trust:dependency_withdraw", "post"): Case(lambda p: _dependency_action(p, "withdraw"), by="other"),
    ("trust:change_request_transition", "post"): Case(lambda p: _change_transition(p)),
    ("trust:requirements_review", "post"): Case(
        lambda p: Request("post", f"/assets/report/{_report(p).slug}/requirements-review/", {"interval_days": 30})
    ),
    # --- API: catalog
    ("asset-lineage", "post"): Case(lambda p: _lineage_add(p, api=True)),
    ("asset-remove-lineage", "delete"): Case(lambda p: _lineage_remove(p, api=True)),
    **_kind_api(AssetKind.SOURCE),
    **_kind_api(AssetKind.DATASET),
    **_kind_api(AssetKind.REPORT),
    **_kind_api(AssetKind.PIPELINE),
    ("scan-list", "post"): Case(lambda p: Request("post", "/api/v1/scans/", {"source": _source(p).asset.slug})),
    # --- API: quality
    ("dbt-import", "post"): Case(
        lambda p: Request("post", "/api/v1/integrations/dbt/", {"source": _source(p).asset.slug, **DBT_SEED})
    ),
    ("great-expectations-import", "post"): Case(
        lambda p: Request(
            "post",
            "/api/v1/integrations/great-expectations/",
            {"dataset": str(_dataset(p).asset.uuid), "result": GE_RESULT},
        )
    ),
    ("soda-import", "post"): Case(
        lambda p: Request(
            "post",
            "/api/v1/integrations/soda/",
            {"dataset": str(_dataset(p).asset.uuid), "result": SODA_RESULT},
        )
    ),
    # --- API: registry
    ("model-detail", "put"): Case(_model_api("put")),
    ("model-detail", "patch"): Case(_model_api("patch")),
    ("model-card", "put"): Case(_card_api("put")),
    ("model-card", "patch"): Case(_card_api("patch")),
    ("model-card-restore", "post"): Case(
        lambda p: Request("post", f"/api/v1{_card_with_two_revisions(p)[1]}/card/revisions/1/restore/", {"revision": 2})
    ),
    ("model-version-list", "post"): Case(_version_api),
    ("model-version-stage", "post"): Case(
        lambda p: Request("post", f"/api/v1{_model(p)[2]}/versions/1/stage/", {"to": "staging"})
    ),
    ("model-version-checklist", "post"): Case(lambda p: _tick(p, api=True)),
    ("model-version-checklist", "delete"): Case(lambda p: _untick(p)),
    ("model-version-promotion", "post"): Case(
        lambda p: Request("post", f"/api/v1/models/{_staged(p).asset.slug}/versions/1/promotion/", {"note": "Go"})
    ),
    ("model-version-approve", "post"): Case(
        lambda p: _decide_api(p, "approve"),
        by="teammate",
    ),
    ("model-version-reject", "post"): Case(
        lambda p: _decide_api(p, "reject"),
        by="teammate",
    ),
    ("model-version-withdraw", "post"): Case(
        lambda p: _decide_api(p, "withdraw"),
    ),
    # --- API: mlops
    ("model-version-predictions", "post"): Case(
        lambda p: Request("post", f"/api/v1{_model(p)[2]}/versions/1/predictions/", _prediction_row())
    ),
    ("model-version-outcomes", "post"): Case(lambda p: _outcome(p)),
    ("model-version-scoring", "post"): Case(lambda p: _score(p, api=True)),
    ("model-gates", "put"): Case(
        lambda p: Request(
            "put",
            f"/api/v1{_model(p)[2]}/gates/",
            {
                "thresholds": [{"metric": "f1", "split": "test", "direction": "min", "value": 0.6}],
                "fairness": {"sensitive_column": "segment", "max_gap": 0.1},
            },
        )
    ),
    ("model-hooks", "post"): Case(
        lambda p: Request("post", f"/api/v1{_model(p)[2]}/hooks/", {"url": "https://ci.example.com/hook"})
    ),
    ("model-hook", "delete"): Case(lambda p: _hook_delete(p)),
    ("model-scoring-schedules", "post"): Case(lambda p: _schedule(p, "post")),
    ("model-scoring-schedule", "patch"): Case(lambda p: _schedule(p, "patch")),
    ("model-scoring-schedule", "delete"): Case(lambda p: _schedule(p, "delete")),
    # --- API: monitoring
    ("job-run-cancel", "post"): Case(lambda p: Request("post", f"/api/v1/job-runs/{_queued_run(p).uuid}/cancel/")),
    ("training-run-list", "post"): Case(lambda p: _train_api(p)),
    ("freshness-policy-list", "post"): Case(_policy_api),
    ("freshness-policy-detail", "put"): Case(lambda p: _policy_put(p)),
    ("freshness-policy-detail", "patch"): Case(
        lambda p: Request("patch", f"/api/v1/freshness-policies/{_policy(p).asset.uuid}/", {"grace": "03:00:00"})
    ),
    ("freshness-policy-detail", "delete"): Case(
        lambda p: Request("delete", f"/api/v1/freshness-policies/{_policy(p).asset.uuid}/")
    ),
    ("notification-read", "post"): Case(
        lambda p: Request("post", f"/api/v1/notifications/{_notification(p).pk}/read/"), refused=404
    ),
    # --- API: trust
    ("deprecation-list", "post"): Case(lambda p: _propose(p, api=True)),
    ("deprecation-withdraw", "post"): Case(
        lambda p: Request("post", f"/api/v1/deprecations/{_deprecation(p).uuid}/withdraw/")
    ),
    ("deprecation-acknowledge", "post"): Case(lambda p: _acknowledge_api(p)),
    ("issue-transition", "post"): Case(lambda p: _transition(p, api=True)),
    ("watch-detail", "delete"): Case(lambda p: _unwatch_api(p), refused=404),
    ("dependency-acknowledge", "post"): Case(lambda p: _dependency_action(p, "acknowledge", api=True)),
    ("dependency-decline", "post"): Case(lambda p: _dependency_action(p, "decline", api=True)),
    ("dependency-withdraw", "post"): Case(lambda p: _dependency_action(p, "withdraw", api=True), by="other"),
    ("change-request-transition", "post"): Case(lambda p: _change_transition(p, api=True)),
}


def _dependency_action(p, action, api=False):
    """rita (``other``) declared she depends on the owner's dataset: its owner decides, she withdraws."""
    dependency = Dependency.declare(_dataset(p).asset, by=p.other, consumer=p.other)
    data = {"reason": "Being replaced."} if action == "decline" else None
    if api:
        return Request("post", f"/api/v1/dependencies/{dependency.uuid}/{action}/", data)
    return Request("post", f"/dependencies/{dependency.uuid}/{action}/", data)


def _change_transition(p, api=False):
    change = ChangeRequest.propose(_report(p), by=p.other, title="Add margin", wanted="Margin.", why="Pricing.")
    if api:
        return Request("post", f"/api/v1/change-requests/{change.uuid}/transition/", {"status": "accepted"})
    return Request("post", f"{change.get_absolute_url()}transition/", {"status": "accepted"})


def _declare(p, api=False):
    asset = _dataset(p).asset
    if api:
        return Request(
            "post", "/api/v1/dependencies/", {"dataset": str(asset.uuid), "consumer_user": p.outsider.username}
        )
    return Request("post", f"/assets/dataset/{asset.slug}/depend/", {"consumer_kind": "person"})


def _request_change(p, api=False):
    data = {"title": "Add margin", "wanted": "Margin.", "why": "Pricing."}
    asset = _report(p)
    if api:
        return Request("post", "/api/v1/change-requests/", {**data, "asset": str(asset.uuid)})
    return Request("post", f"/assets/report/{asset.slug}/request-change/", data)


def _lineage_remove(p, api=False):
    report = _report(p)
    upstream = factories.dataset("Orders", owner=p.other).asset
    factories.edge(upstream, report)
    if api:
        return Request("delete", f"/api/v1/assets/{report.uuid}/lineage/{upstream.uuid}/")
    return Request("post", f"{report.get_absolute_url()}lineage/remove/", {"direction": "up", "other": upstream.uuid})


def _assumption(p, data):
    model, _, base = _model(p)
    assumption = Assumption.objects.create(model=model, statement="Prices are stable.")
    return Request("post", f"{base}/assumptions/{assumption.pk}/", data)


def _model_user_delete(p):
    model, _, base = _model(p)
    user = ModelUser.objects.create(model=model, name="CRM team")
    return Request("post", f"{base}/users/{user.pk}/delete/")


def _decide_page(p):
    model, promotion = _pending_promotion(p)
    return Request("post", f"/models/{model.asset.slug}/versions/1/promotion/{promotion.pk}/", {"action": "approve"})


def _decide_api(p, action):
    model, _ = _pending_promotion(p)
    return Request("post", f"/api/v1/models/{model.asset.slug}/versions/1/promotion/{action}/", {"note": "Seen."})


def _untick(p):
    _, version, base = _model(p)
    version.tick(ChecklistItem.CODE_REVIEW, p.owner, link="https://review.example.com/1")
    return Request("delete", f"/api/v1{base}/versions/1/checklist/?item=code_review")


def _queued_run(p):
    return JobRun.objects.create(kind=JobKind.SCHEMA_SCAN, asset=_source(p).asset, requested_by=p.owner)


def _failed_run(p):
    return JobRun.objects.create(
        kind=JobKind.SCHEMA_SCAN, asset=_source(p).asset, requested_by=p.owner, state="failed", error="Worker lost"
    )


def _train_page(p):
    model, dataset = _trainable(p)
    data = {**TRAINING, "dataset": f"dataset/{dataset.asset.slug}", "features": "tenure_months, segment"}
    return Request("post", f"/models/{model.asset.slug}/train/", data)


def _train_api(p):
    model, dataset = _trainable(p)
    data = {**TRAINING, "model": model.asset.slug, "dataset": dataset.asset.slug,
            "features": ["tenure_months", "segment"]}  # fmt: skip
    return Request("post", "/api/v1/training-runs/", data)


def _notification(p):
    return Notification.objects.create(recipient=p.owner, kind="issue", title="Totals are off")


def _certifiable(p):
    return factories.dataset("Orders", owner=p.owner, team=p.team, description="All validated orders.").asset


def _acknowledge_page(p):
    deprecation, report = _deprecation_of_an_input(p)
    return Request("post", f"{deprecation.get_absolute_url()}acknowledge/report/{report.slug}/", {"note": "Moved."})


def _acknowledge_api(p):
    deprecation, report = _deprecation_of_an_input(p)
    return Request("post", f"/api/v1/deprecations/{deprecation.uuid}/acknowledge/", {"asset": str(report.uuid)})


def _unwatch_api(p):
    asset = _dataset(p).asset
    Watch.objects.create(user=p.owner, asset=asset)
    return Request("delete", f"/api/v1/watches/{asset.uuid}/")


def _policy_put(p):
    asset = _policy(p).asset
    data = {"asset": str(asset.uuid), "method": "heartbeat", "period": "2 00:00:00", "grace": "01:00:00"}
    return Request("put", f"/api/v1/freshness-policies/{asset.uuid}/", data)


class Open(NamedTuple):
    reason: str
    build: object  # People -> Request, for the anonymous refusal (None: anonymous use is the point)


def _asset_url(p):
    return f"/assets/dataset/{_dataset(p).asset.slug}"


def _report_problem(p, api=False):
    data = {"title": "Totals are off", "description": "x", "category": "wrong_values", "severity": "major"}
    asset = _dataset(p).asset
    if api:
        return Request("post", "/api/v1/issues/", {**data, "asset": str(asset.uuid)})
    return Request("post", f"/assets/dataset/{asset.slug}/report-problem/", data)


def _comment(p, api=False):
    issue = _issue(p)
    url = f"/api/v1/issues/{issue.uuid}/comment/" if api else f"{issue.get_absolute_url()}comment/"
    return Request("post", url, {"body": "Seen it too."})


def _new_asset(kind):
    return lambda p: Request("post", f"/api/v1/{kind}s/", {"name": "New"})


NEW_PASSWORD = "a-long-enough-new-passphrase"
SECRET_UUID = "authenticated by the secret UUID in its address (healthchecks.io style)"
NEW_ASSET = "anyone signed in may add an asset (and owns it)"
NEW_MODEL = "anyone signed in may register a model (and owns it)"

# Open to anyone signed in, each for the reason given; anonymous is still refused, except where ``build`` is None.
OPEN = {
    "accounts:login": Open("signing in: anonymous by design", None),
    "accounts:logout": Open("ends one's own session", lambda p: Request("post", "/accounts/logout/")),
    "accounts:time_zone": Open(
        "one's own time zone", lambda p: Request("post", "/accounts/time-zone/", {"time_zone": "Europe/Paris"})
    ),
    "accounts:token_create": Open("one's own API token", lambda p: Request("post", "/accounts/tokens/", {"name": "x"})),
    "accounts:password_change": Open(
        "one's own password, and only with the current one",
        lambda p: Request(
            "post",
            "/accounts/password/",
            {"old_password": factories.PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        ),
    ),
    "accounts:password_reset": Open(
        "anonymous by design: asks for a link, which goes only to the account's own email address", None
    ),
    "accounts:password_reset_confirm": Open(
        "anonymous by design: authenticated by the one-time token in the emailed link", None
    ),
    "catalog:asset_create": Open(
        NEW_ASSET, lambda p: Request("post", "/catalog/new/report/", {"name": "New", "lifecycle": "active"})
    ),
    "glossary:term_create": Open(
        "anyone signed in may add a term (and owns it)",
        lambda p: Request("post", "/glossary/new/", {"name": "Basket", "definition": "Items bought together."}),
    ),
    "registry:model_create": Open(NEW_MODEL, lambda p: Request("post", "/models/new/", {"name": "New model"})),
    "registry:markdown_preview": Open(
        "renders the posted text, writes nothing",
        lambda p: Request("post", "/models/markdown-preview/?field=results", {"results": "**x**"}),
    ),
    "core:inbox_mark_selected_read": Open(
        "one's own notifications only (mark_read filters by recipient)",
        lambda p: Request("post", "/inbox/read/", {"ids": ["1"]}),
    ),
    "core:preferences": Open(
        "one's own alert channels", lambda p: Request("post", "/inbox/preferences/", {"inbox": "on"})
    ),
    "ping:success": Open(SECRET_UUID, None),
    "ping:start": Open(SECRET_UUID, None),
    "ping:fail": Open(SECRET_UUID, None),
    "core:inbox_mark_all_read": Open("one's own notifications", lambda p: Request("post", "/inbox/read-all/")),
    "trust:report_problem": Open("anyone signed in may report a problem", _report_problem),
    "trust:issue_comment": Open("anyone signed in may comment on an issue", _comment),
    "trust:watch": Open("watching is one's own", lambda p: Request("post", f"{_asset_url(p)}/watch/")),
    "trust:unwatch": Open("watching is one's own", lambda p: Request("post", f"{_asset_url(p)}/unwatch/")),
    "accounts:team_webhook_cadence": Open(
        "a team's own members choose (anyone else answers 404: tests/trust/test_subscriptions.py)",
        lambda p: Request("post", f"/accounts/teams/{p.team.slug}/webhook-cadence/", {"webhook_cadence": "daily"}),
    ),
    "trust:watch_upstream": Open(
        "one's own watch only (another person's answers 404: tests/trust/test_subscriptions.py)",
        lambda p: Request("post", "/watching/1/upstream/", {"include_upstream": "off"}),
    ),
    "trust:unsubscribe": Open(
        "anonymous by design: authenticated by the signed link in the email, which stops only its own watch", None
    ),
    "openlineage": Open(
        "any token holder may send OpenLineage events; one that would change an asset its token's owner may not "
        "change is refused (test_an_outsiders_lineage_event_on_the_owners_assets_is_refused below)",
        lambda p: Request("post", "/api/v1/lineage", {}),
    ),
    **{f"{kind}-list": Open(NEW_ASSET, _new_asset(kind)) for kind in ("source", "dataset", "report", "pipeline")},
    "model-list": Open(NEW_MODEL, lambda p: Request("post", "/api/v1/models/", {"name": "New model"})),
    "notifications-all-read": Open(
        "one's own notifications", lambda p: Request("post", "/api/v1/notifications/all/read/")
    ),
    "issue-list": Open("anyone signed in may report a problem", lambda p: _report_problem(p, api=True)),
    "trust:declare_dependency": Open("anyone signed in may declare their own dependency on a dataset", _declare),
    "dependency-list": Open(
        "anyone signed in may declare their own dependency (for a team or asset only their own: tested in "
        "tests/trust/test_dependencies.py)",
        lambda p: _declare(p, api=True),
    ),
    "trust:request_change": Open("anyone signed in may request a change", _request_change),
    "change-request-list": Open("anyone signed in may request a change", lambda p: _request_change(p, api=True)),
    "issue-comment": Open("anyone signed in may comment on an issue", lambda p: _comment(p, api=True)),
    "watch-list": Open(
        "watching is one's own", lambda p: Request("post", "/api/v1/watches/", {"asset": str(_dataset(p).asset.uuid)})
    ),
}


# --- the database, before and after ------------------------------------------------------------------------------
# Signing in writes a session row; nothing else may change when a request is refused.
NOT_COMPARED = {"django_session"}


def database_state():
    """A digest of every table's rows, in one query: any insert, update or delete changes its table's digest."""
    tables = sorted(set(connection.introspection.table_names()) - NOT_COMPARED)
    quote = connection.ops.quote_name
    union = " UNION ALL ".join(
        f"SELECT '{table}', count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
        f"FROM {quote(table)} t"
        for table in tables
    )
    with connection.cursor() as cursor:
        cursor.execute(union)
        return {table: (count, digest) for table, count, digest in cursor.fetchall()}


def changed_tables(before, after):
    return sorted(table for table in before if before[table] != after[table])


# --- the tests ---------------------------------------------------------------------------------------------------
@pytest.fixture
def people(owner, teammate, outsider, staff, team):
    return People(owner, teammate, outsider, staff, team, factories.user("rita"))


def _sign_in(user):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _ids(keys):
    return [f"{name} {method.upper()}" for name, method in keys]


REFUSABLE = sorted(CASES)
ANONYMOUS = sorted([*CASES, *((name, "post") for name, open_ in OPEN.items() if open_.build)])


def test_every_write_route_is_covered():
    found = write_routes()
    covered = set(CASES) | {key for key in found if key[0] in OPEN}
    assert sorted(found - covered) == [], "write routes without a refusal case: add them to CASES or OPEN"
    assert sorted(set(CASES) - found) == [], "cases for routes that no longer take these methods"
    assert sorted(set(OPEN) - {name for name, _ in found}) == [], "open routes that no longer exist"


@pytest.mark.parametrize("key", ANONYMOUS, ids=_ids(ANONYMOUS))
def test_anonymous_is_sent_to_sign_in(key, people):
    request = (CASES[key].build if key in CASES else OPEN[key[0]].build)(people)
    before = database_state()
    response = request.send(_sign_in(None))
    if request.api:
        assert response.status_code in (401, 403) and response["Content-Type"] == "application/json"
    else:
        assert response.status_code == 302 and response["Location"].startswith(f"{LOGIN}?next=")
    assert changed_tables(before, database_state()) == []


def _outsider_refusal(key):
    case = CASES[key]
    if case.outsider_xfail:
        return pytest.param(key, marks=pytest.mark.xfail(strict=True, reason=case.outsider_xfail))
    return key


@pytest.mark.parametrize("key", [_outsider_refusal(key) for key in REFUSABLE], ids=_ids(REFUSABLE))
def test_the_outsider_is_refused(key, people):
    request = CASES[key].build(people)
    assert request.send(_sign_in(people.outsider)).status_code == CASES[key].refused


@pytest.mark.parametrize("key", REFUSABLE, ids=_ids(REFUSABLE))
def test_the_outsider_changes_nothing(key, people):
    request, client = CASES[key].build(people), _sign_in(people.outsider)
    before = database_state()
    request.send(client)
    assert changed_tables(before, database_state()) == []


@pytest.mark.parametrize("key", REFUSABLE, ids=_ids(REFUSABLE))
def test_the_right_person_can(key, people):
    case = CASES[key]
    request, client = case.build(people), _sign_in(getattr(people, case.by))
    before = database_state()
    response = request.send(client)
    assert response.status_code < 400, getattr(response, "content", b"")[:500]
    assert (changed_tables(before, database_state()) != []) == case.writes


def test_a_ping_with_an_unknown_key_is_404_and_changes_nothing(people):
    factories.freshness_policy(_dataset(people))
    before = database_state()
    for suffix in ("", "/start", "/fail"):
        assert Client().post(f"/ping/00000000-0000-0000-0000-000000000000{suffix}").status_code == 404
    assert changed_tables(before, database_state()) == []


LINEAGE_TARGETS = {
    "the owner's dataset as an output": lambda p, ns: {"outputs": [{"namespace": ns, "name": "orders"}]},
    "a new dataset in the owner's source": lambda p, ns: {"outputs": [{"namespace": ns, "name": "planted"}]},
    "the owner's pipeline": lambda p, ns: {"job": {"namespace": "airflow", "name": "Nightly"}},
}


@pytest.mark.parametrize("target", sorted(LINEAGE_TARGETS))
def test_an_outsiders_lineage_event_on_the_owners_assets_is_refused(target, people):
    """OpenLineage is open to every token, so its refusals are generated here: an event that would change what the
    token's owner may not change is answered 403 and only kept, marked refused, for staff."""
    dataset = _dataset(people)
    namespace = "postgres://warehouse:5432"
    type(dataset.source).objects.filter(pk=dataset.source_id).update(namespace=namespace)
    type(dataset).objects.filter(pk=dataset.pk).update(qualified_name="orders")
    pipeline = factories.pipeline("Nightly", owner=people.owner)
    type(pipeline).objects.filter(pk=pipeline.pk).update(namespace="airflow")
    event = {
        "eventType": "COMPLETE",
        "eventTime": "2026-11-28T06:00:00+00:00",
        "run": {"runId": "r1"},
        "job": {"namespace": "elsewhere", "name": "mine"},
        **LINEAGE_TARGETS[target](people, namespace),
    }
    _, key = ApiToken.issue(people.outsider, "mine")
    before = database_state()
    response = Client().post(
        "/api/v1/lineage", event, content_type="application/json", headers={"authorization": f"Bearer {key}"}
    )
    assert response.status_code == 403 and response.json()["refused"] is True
    # The token's last use and the kept event are the only writes.
    assert changed_tables(before, database_state()) == ["accounts_apitoken", "catalog_lineageevent"]
