"""The exact number of queries of every main page and every API list, for a user with 3 rows and with 30.

An N+1 makes the second number grow; a constant extra query (a template tag looking up what the view already had)
changes both: either fails here, with every query listed. Each pin's comment names its queries, in order. Each page
is measured on its second view: the first stores the trust badges of the rows it shows, and an API token records
its first use.
"""

from datetime import timedelta
from typing import NamedTuple

import pytest
from django.urls import get_resolver
from django.utils import timezone
from django.utils.text import slugify

from catalog.changes import record_change
from catalog.choices import AssetKind, ChangeAction, RunOrigin, RunState, SchemaChangeOrigin, SourceKind
from catalog.forms import EDITABLE_KINDS
from catalog.models import Asset, Column, NamingConvention, PipelineRun, SchemaChange, Tag, Watch
from catalog.search import reindex
from core.choices import JobKind
from core.models import Alert, JobRun, Notification
from monitoring.choices import FreshnessStatus
from monitoring.models import FreshnessCheck
from registry.models import Assumption, Metric, ModelUser, StageChange
from registry.services import register_model, register_version
from tests import factories
from tests.helpers import assert_num_queries
from trust.models import ChangeRequest, Dependency, Deprecation

pytestmark = pytest.mark.django_db
SMALL, LARGE = 3, 30


class World:
    """The rows a page shows, added ``n`` at a time (``grow``); what they hang from is made once (``once``)."""

    def __init__(self, viewer, team):
        self.viewer, self.team = viewer, team
        self.other = factories.user("rita")
        self.made = 0
        self._memo = {}

    def once(self, key, make):
        if key not in self._memo:
            self._memo[key] = make()
        return self._memo[key]

    def grow(self, n):
        """The indices of the next ``n`` rows; every builder names its rows ``Item <index>``."""
        first, self.made = self.made, self.made + n
        return range(first, self.made)

    @property
    def newest(self):
        return f"Item {self.made - 1:02d}"

    # What many builders hang their rows from.
    def source(self):
        return self.once(
            "source", lambda: factories.source("Warehouse", SourceKind.SQLITE, {"path": "x.db"}, owner=self.viewer)
        )

    def tag(self):
        return self.once("tag", lambda: Tag.objects.create(name="gold"))

    def dataset(self, i, **fields):
        fields = {"owner": self.viewer, "team": self.team, **fields}
        made = factories.dataset(f"Item {i:02d}", source_=self.source(), columns=[("id", "bigint")], **fields)
        made.asset.tags.add(self.tag())
        return made.asset

    def model(self):
        def make():
            model = register_model("Churn", owner=self.viewer, team=self.team, summary="Who leaves.")
            register_version(model, created_by=self.viewer, metrics={"f1": 0.7}, algorithm="Random forest")
            return model

        return self.once("model", make)


def _kind(kind):
    """``n`` assets of ``kind``, tagged, owned by the viewer."""

    def build(w, n):
        for i in w.grow(n):
            if kind == AssetKind.DATASET:
                w.dataset(i)
            else:
                made = getattr(factories, kind)(f"Item {i:02d}", owner=w.viewer, team=w.team)
                made.asset.tags.add(w.tag())

    return build


def _asset_page(kind):
    """One asset of ``kind`` with ``n`` inputs, ``n`` outputs and ``n`` history entries; a dataset has ``n``
    columns and schema changes, a source ``n`` datasets, a pipeline ``n`` runs."""

    def build(w, n):
        centre = w.once("centre", lambda: getattr(factories, kind)("Centre", owner=w.viewer, team=w.team))
        for i in w.grow(n):
            factories.edge(w.dataset(i), centre)
            factories.edge(centre, factories.report(f"Output {i:02d}", owner=w.other))
            record_change(centre.asset, w.viewer, {"name": "Before"}, {"name": "After"}, action=ChangeAction.UPDATED)
            if kind == AssetKind.DATASET:
                Column.objects.create(dataset=centre, name=f"column_{i}", data_type="text", position=i + 1)
                SchemaChange.objects.create(
                    dataset=centre, origin=SchemaChangeOrigin.SCAN, added=[{"name": f"column_{i}", "type": "text"}]
                )
            if kind == AssetKind.SOURCE:
                factories.dataset(f"Table {i:02d}", source_=centre)
                JobRun.objects.create(kind=JobKind.SCHEMA_SCAN, asset=centre.asset, requested_by=w.viewer)
            if kind == AssetKind.PIPELINE:
                PipelineRun.objects.create(
                    pipeline=centre, run_id=f"run-{i}", origin=RunOrigin.HEARTBEAT, state=RunState.COMPLETE
                )
        return centre.asset.get_absolute_url()

    return build


def _tab(build, tab):
    """The same asset as ``build`` makes, at its tab ``tab``."""

    def at_tab(w, n):
        return f"{build(w, n)}{tab}/"

    return at_tab


def _issues_of(build):
    def with_issues(w, n):
        url = build(w, n)
        centre = w.once("centre", None)
        for i in w.grow(n):
            factories.data_issue(centre.asset, w.other, title=f"Item {i:02d}")
        return f"{url}issues/"

    return with_issues


def _lineage(w, n):
    centre = w.once("centre", lambda: factories.dataset("Centre", owner=w.viewer))
    for i in w.grow(n):
        factories.edge(w.dataset(i), centre)
        factories.edge(centre, factories.report(f"Output {i:02d}", owner=w.other))
    return f"{centre.asset.get_absolute_url()}lineage/"


def _search(w, n):
    for i in w.grow(n):
        w.dataset(i, description="Every validated order.")
    reindex(Asset.objects.values_list("pk", flat=True))


def _models(w, n):
    for i in w.grow(n):
        model = register_model(f"Item {i:02d}", owner=w.viewer, team=w.team, summary="Who leaves.")
        register_version(model, created_by=w.viewer, metrics={"f1": 0.7}, algorithm="Random forest")


def _model_page(w, n):
    """A model with ``n`` more versions (each with a metric and a training set), assumptions and users."""
    model = w.model()
    for i in w.grow(n):
        register_version(
            model, created_by=w.viewer, training_datasets=[w.dataset(i).dataset], metrics={"f1": 0.7}, algorithm="GBM"
        )
        Assumption.objects.create(model=model, statement=f"Assumption {i}")
        ModelUser.objects.create(model=model, name=f"Item {i:02d}", kind="internal")
        model.developers.add(factories.user(f"developer{i}"))
    return f"/models/{model.asset.slug}/"


def _quality_tab(w, n):
    """A dataset with ``n`` more checks as a dbt project leaves them (a column test each, a third failing), each
    with three runs, and ``n`` source freshness observations."""
    from quality.choices import CheckOrigin, CheckStatus, FreshnessStatus
    from quality.models import CheckResult, FreshnessObservation, QualityCheck

    centre = w.once("centre", lambda: factories.dataset("Centre", owner=w.viewer, team=w.team))
    now = timezone.now()
    for i in w.grow(n):
        status = CheckStatus.FAIL if i % 3 == 0 else CheckStatus.PASS
        check = QualityCheck.objects.create(
            asset=centre.asset, key=f"test.not_null_item_{i}", name=f"Item {i:02d}", column=f"column_{i}",
            check_type="not_null", origin=CheckOrigin.DBT, last_status=status, last_failures=3 if status else 0,
            last_run_at=now,
        )  # fmt: skip
        for run in range(3):
            CheckResult.objects.create(
                quality_check=check, run_key=f"invocation-{run}", origin=CheckOrigin.DBT,
                status=status if run == 2 else CheckStatus.PASS, failures=3 if run == 2 and i % 3 == 0 else 0,
                executed_at=now - timedelta(days=2 - run),
            )  # fmt: skip
        FreshnessObservation.objects.create(
            asset=centre.asset, run_key=f"freshness-{i}", status=FreshnessStatus.PASS,
            max_loaded_at=now - timedelta(hours=i + 1), observed_at=now - timedelta(hours=i),
        )  # fmt: skip
    return f"/quality/dataset/{centre.asset.slug}/"


def _monitoring_tab(w, n):
    """The model with version 1 in use and a prediction table, ``n`` more monitoring runs (a day apart, each with
    the drift of a feature, the predictions' drift and a live metric), ``n`` delivery hooks of its team and ``n``
    scoring schedules (each with its last run)."""
    from mlops.choices import CheckKind, CheckStatus, MonitoringStatus
    from mlops.models import DeliveryHook, ModelOps, MonitoringResult, MonitoringRun, ScoringSchedule
    from registry.choices import Stage

    model = w.model()
    version = model.versions.get(version=1)
    version.stage = Stage.PRODUCTION
    version.save(update_fields=["stage"])
    w.once("ops", lambda: ModelOps.objects.create(model=model, prediction_table=w.dataset(99).dataset))
    end = timezone.now()
    for i in w.grow(n):
        run = MonitoringRun.objects.create(
            model=model, version=version, window_start=end - timedelta(days=i + 1), window_end=end - timedelta(days=i),
            rows=1000, labelled_rows=400, status=MonitoringStatus.DRIFTING if i % 5 == 0 else MonitoringStatus.HEALTHY,
        )  # fmt: skip
        MonitoringResult.objects.bulk_create([
            MonitoringResult(run=run, kind=CheckKind.FEATURE_DRIFT, name=f"Item {i:02d}", value=0.3, threshold=0.2,
                             status=CheckStatus.ALERT if i % 5 == 0 else CheckStatus.OK),
            MonitoringResult(run=run, kind=CheckKind.PREDICTION_DRIFT, name="prediction", value=0.05, threshold=0.2),
            MonitoringResult(run=run, kind=CheckKind.PERFORMANCE, name="f1", value=0.7, threshold=0.6),
        ])  # fmt: skip
        DeliveryHook.objects.create(team=w.team, url=f"https://hooks.example.com/{i}", created_by=w.viewer)
        last_run = JobRun.objects.create(kind=JobKind.BATCH_SCORING, asset=version.asset, requested_by=w.viewer)
        ScoringSchedule.objects.create(model=model, version=version if i % 2 else None, dataset=w.dataset(i).dataset,
                                       last_run=last_run, created_by=w.viewer)  # fmt: skip
    return f"/mlops/{model.asset.slug}/"


def _maturity(w, n):
    """``n`` more models, at each maturity level in turn (``tests.mlops.helpers.model_at_level``)."""
    from tests.mlops.helpers import model_at_level

    training = w.once("training", lambda: w.dataset(99).dataset)
    for i in w.grow(n):
        model_at_level(f"Item {i:02d}", i % 5 + 1, owner=w.viewer, team=w.team, training=training)


def _version_page(w, n):
    """Version 1 with ``n`` more metrics, training and evaluation sets, and stage changes."""
    model = w.model()
    version = model.versions.get(version=1)
    for i in w.grow(n):
        dataset = w.dataset(i).dataset
        version.training_datasets.add(dataset)
        version.evaluation_datasets.add(dataset)
        Metric.objects.create(version=version, name=f"metric_{i}", value=i, split="test")
        StageChange.objects.create(version=version, from_stage="development", to_stage="development", actor=w.viewer)
    return version.get_absolute_url()


def _card_editor(w, n):
    model = w.model()
    for i in w.grow(n):
        register_version(model, created_by=w.viewer, metrics={"f1": 0.7}, algorithm="GBM")
        model.card.edit({"results": f"Item {i:02d}"}, w.viewer, base_revision=model.card.revision)
    return f"/models/{model.asset.slug}/card/edit/"


def _board(w, n):
    for i in w.grow(n):
        factories.freshness_policy(w.dataset(i), last_seen_at=timezone.now() - timedelta(hours=1))


def _freshness_detail(w, n):
    """A policy with ``n`` more checks and alerts, and ``n`` more inputs with policies of their own."""
    centre = w.once("centre", lambda: factories.dataset("Centre", owner=w.viewer))
    policy = w.once("policy", lambda: factories.freshness_policy(centre))
    now = timezone.now()
    for i in w.grow(n):
        upstream = w.dataset(i)
        factories.edge(upstream, centre)
        factories.freshness_policy(upstream, last_seen_at=now)
        FreshnessCheck.objects.create(policy=policy, trigger="ping", status=FreshnessStatus.FRESH, observed_at=now)
        Alert.objects.create(asset=centre.asset, kind="freshness", title=f"Item {i:02d}")
    return f"/monitoring/freshness/{centre.asset.uuid}/"


def _jobs(kind):
    def build(w, n):
        for i in w.grow(n):
            JobRun.objects.create(kind=kind, asset=w.dataset(i), requested_by=w.viewer)

    return build


def _alerts(w, n):
    for i in w.grow(n):
        Alert.objects.create(asset=w.dataset(i), kind="freshness", title=f"Item {i:02d}")


def _notifications(w, n):
    for i in w.grow(n):
        Notification.objects.create(recipient=w.viewer, kind="issue", title=f"Item {i:02d}", asset=w.dataset(i))


def _issues(w, n):
    for i in w.grow(n):
        factories.data_issue(w.dataset(i), w.other, title=f"Item {i:02d}")


def _issue_page(w, n):
    """An issue with ``n`` more comments, and ``n`` more issues on its asset (the owner's duplicate choices)."""
    asset = w.once("centre", lambda: factories.dataset("Centre", owner=w.viewer).asset)
    issue = w.once("issue", lambda: factories.data_issue(asset, w.other, title="The issue"))
    for i in w.grow(n):
        issue.comment(by=w.other, body=f"Item {i:02d}")
        factories.data_issue(asset, w.other, title=f"Other {i:02d}")
    return issue.get_absolute_url()


def _profile(w, n):
    """``n`` more assets the viewer owns, their team owns, and they watch; notifications; tokens."""
    teammate = w.once("teammate", lambda: factories.user("tom", teams=[w.team]))
    for i in w.grow(n):
        w.dataset(i)
        factories.report(f"Team {i:02d}", owner=teammate, team=w.team)
        Watch.objects.create(user=w.viewer, asset=factories.report(f"Watched {i:02d}", owner=w.other).asset)
        Notification.objects.create(recipient=w.viewer, kind="issue", title=f"Notice {i:02d}")
        factories.api_client(w.viewer)


def _hygiene(w, n):
    """``n`` more assets without a description or a review date, each breaking a naming convention."""
    w.once("convention", lambda: NamingConvention.objects.create(kind=AssetKind.DATASET, pattern="[a-z_]+"))
    for i in w.grow(n):
        w.dataset(i)


def _versions_api(w, n):
    model = w.model()
    for i in w.grow(n):
        dataset = w.dataset(i).dataset
        register_version(
            model,
            created_by=w.viewer,
            training_datasets=[dataset],
            evaluation_datasets=[dataset],
            metrics={"f1": 0.7},
            algorithm="GBM",
        )
    return f"/api/v1/models/{model.asset.slug}/versions/"


def _team_policies(w, n):
    """Heartbeat policies of the viewer's team, on assets a teammate owns: the viewer may edit them too."""
    teammate = w.once("teammate", lambda: factories.user("tom", teams=[w.team]))
    for i in w.grow(n):
        factories.freshness_policy(w.dataset(i, owner=teammate))


def _freshness_checks(w, n):
    policy = w.once("policy", lambda: factories.freshness_policy(w.dataset(0)))
    for _ in w.grow(n):
        FreshnessCheck.objects.create(policy=policy, trigger="ping", status=FreshnessStatus.FRESH)


def _deprecations(w, n):
    for i in w.grow(n):
        asset = w.dataset(i)
        factories.edge(asset, factories.report(f"Uses {i:02d}", owner=w.other))
        Deprecation.propose(
            asset, by=w.viewer, reason="Replaced.", sunset_date=timezone.localdate() + timedelta(days=90)
        )


def _dependencies(w, n):
    for i in w.grow(n):
        Dependency.declare(w.dataset(i), by=w.other, consumer=w.other, columns=["id"])


def _change_requests(w, n):
    for i in w.grow(n):
        ChangeRequest.propose(w.dataset(i), by=w.other, title=f"Item {i:02d}", wanted="More.", why="Because.")


def _reader(w, n):
    """``n`` more datasets of someone else the viewer watches, and ``n`` more they declared they depend on."""
    for i in w.grow(n):
        Watch.objects.create(user=w.viewer, asset=w.dataset(i, owner=w.other, team=None))
        used = factories.dataset(f"Used {i:02d}", owner=w.other, columns=[("id", "bigint")])
        Dependency.declare(used.asset, by=w.viewer, consumer=w.viewer)


def _watches(w, n):
    for i in w.grow(n):
        Watch.objects.create(user=w.viewer, asset=w.dataset(i))


def _teams(w, n):
    for i in w.grow(n):
        factories.team(f"Item {i:02d}").members.add(w.viewer, w.other)


class Page(NamedTuple):
    name: str
    url: str | None  # None: the builder answers with it
    build: object
    queries: int
    shows_newest: bool = True  # the page names the newest row (``Item NN``): the rows really are on it
    defect: str = ""  # a known defect that makes the count differ from the pin, named for the lead

    def param(self):
        marks = [pytest.mark.xfail(strict=True, reason=self.defect)] if self.defect else []
        return pytest.param(self, id=self.name, marks=marks)


# What every page costs before its own queries: the session and its user (1, 2), and, from the base layout, the
# unread count in the menu (somewhere in the middle, where the template first asks for it).
SIGNED_IN, UNREAD = 2, 1
# A page of a list: the count for the paginator, the page's rows with owner and team joined.
LIST = 2
# Under every asset's title (trust_tags.asset_trust_header), reading the walk the view made: the asset's
# deprecation, its deprecated inputs upstream, open issues here and upstream, its stored badge; whether the viewer
# watches it, deprecations it must acknowledge, latest review, latest certification, tags.
TRUST_HEADER = 4 + 5
# The badge computed for display, these pages' rows having just been written (the page writes nothing; the worker
# stores it): the asset with its latest certification, running deprecations, retiring inputs, serious issues,
# freshness policies, maintenance windows, quality checks (its own, and the failing ones upstream). The walk
# upstream is the view's.
BADGE_COMPUTED = 7
# The freshness panel of an asset page: the policies of the asset's inputs, the asset's own policy.
FRESHNESS_PANEL = 2
# Every tab of an asset's page (catalog/tabs.py): the asset with owner, team, kind row and can_edit (one query,
# ``catalog.access.asset_for_user``) and the one walk upstream, then the header's panels.
ASSET_TAB = 1 + 1
# The Overview tab adds the naming conventions of its kind and the glossary terms it uses (history, columns and
# neighbours are other tabs), and reads the tags the trust header counts; the other tabs show no tags.
ASSET_PAGE = ASSET_TAB + 1 + 1
NO_TAGS = -1
# ``registry.access.get_model``: the model with owner, team and card; developers, approvers, assumptions, users,
# tags, quality thresholds; versions with their assets and creators, their metrics, training sets, evaluation sets.
GET_MODEL = 11

PAGES = [
    # counts by kind, my ten latest, the ten latest; the ids of what I watch or depend on (none here)
    Page("home", "/", _kind(AssetKind.DATASET), SIGNED_IN + UNREAD + 3 + 1),
    # a reader who owns nothing: + those assets with owner and team, their stored badges
    Page("reader's home", "/", _reader, SIGNED_IN + UNREAD + 3 + 3),
    # a list, its rows' tags, their stored badges
    Page("catalog", "/catalog/", _kind(AssetKind.DATASET), SIGNED_IN + UNREAD + LIST + 2),
    *(
        Page(f"catalog of {kind}s", f"/catalog/?kind={kind}", _kind(kind), SIGNED_IN + UNREAD + LIST + 2)
        for kind in EDITABLE_KINDS
    ),
    Page("reports", "/catalog/reports/", _kind(AssetKind.REPORT), SIGNED_IN + UNREAD + LIST + 2),
    # The Overview tab: its rows (inputs, history, columns) are on the other tabs.
    Page(
        "dataset page",
        None,
        _asset_page(AssetKind.DATASET),
        # + its declared consumers (issue 15)
        SIGNED_IN + UNREAD + ASSET_PAGE + TRUST_HEADER + BADGE_COMPUTED + FRESHNESS_PANEL + 1,
        shows_newest=False,
    ),
    # + its columns
    Page(
        "dataset columns tab",
        None,
        _tab(_asset_page(AssetKind.DATASET), "columns"),
        # + the column lineage of its columns, both ways (issue 16)
        SIGNED_IN + UNREAD + ASSET_TAB + TRUST_HEADER + NO_TAGS + BADGE_COMPUTED + FRESHNESS_PANEL + 1 + 1,
        shows_newest=False,
    ),
    # + its history, its schema changes, the scans of its source with who asked for each
    Page(
        "dataset history tab",
        None,
        _tab(_asset_page(AssetKind.DATASET), "history"),
        SIGNED_IN + UNREAD + ASSET_TAB + TRUST_HEADER + NO_TAGS + BADGE_COMPUTED + FRESHNESS_PANEL + 3,
        shows_newest=False,
    ),
    # + the problems reported on it with their reporters
    Page(
        "report issues tab",
        None,
        _issues_of(_asset_page(AssetKind.REPORT)),
        SIGNED_IN + UNREAD + ASSET_TAB + TRUST_HEADER + NO_TAGS + BADGE_COMPUTED + FRESHNESS_PANEL + 1,
    ),
    # + how many datasets it has, the first hundred
    Page(
        "source page",
        None,
        _asset_page(AssetKind.SOURCE),
        SIGNED_IN + UNREAD + ASSET_PAGE + TRUST_HEADER + BADGE_COMPUTED + FRESHNESS_PANEL + 2,
        shows_newest=False,
    ),
    Page(
        "report page",
        None,
        _asset_page(AssetKind.REPORT),
        SIGNED_IN + UNREAD + ASSET_PAGE + TRUST_HEADER + BADGE_COMPUTED + FRESHNESS_PANEL,
        shows_newest=False,
    ),
    # + its latest runs
    Page(
        "pipeline page",
        None,
        _asset_page(AssetKind.PIPELINE),
        SIGNED_IN + UNREAD + ASSET_PAGE + TRUST_HEADER + BADGE_COMPUTED + FRESHNESS_PANEL + 1,
        shows_newest=False,
    ),
    # The Lineage tab: the asset with its kind row; walks up and down; the names ordering the nearest upstream, the
    # table's page and the nearest downstream (the last two the same query: ImpactOrder keeps no result); the
    # drawn assets with owner and team; their stored badges; the edges between them; then the header (its own walk
    # upstream, the panels) and the direct neighbours (upstream, downstream) that the owner edits by hand
    Page(
        "lineage", None, _lineage, SIGNED_IN + UNREAD + 1 + 2 + 3 + 3 + 1 + TRUST_HEADER + NO_TAGS + FRESHNESS_PANEL + 2
    ),
    # the ranked ids, the results with owner and team, their tags, their stored badges; glossary terms matching
    Page("search", "/search/?q=item", _search, SIGNED_IN + UNREAD + 4 + 1, shows_newest=False),  # 25 results a page
    # the count, the page with its version counts, the versions in use, the stored badges
    Page("model list", "/models/", _models, SIGNED_IN + UNREAD + 4),
    # get_model, the assets of the training sets, the pending promotion request; the one walk upstream; the trust
    # header without deprecated inputs (nothing upstream) and tags (get_model has them); the badge computed
    # without retiring inputs (nothing upstream) but with the card's facts (card, assumptions, developers, users,
    # quality thresholds, versions); training runs; the header's freshness panel
    Page(
        "model page",
        None,
        _model_page,
        # the badge also reads the model's monitoring status (issue 19): + 1
        SIGNED_IN
        + UNREAD
        + GET_MODEL
        + 2
        + 1
        + (TRUST_HEADER - 2)
        + (BADGE_COMPUTED - 1 + 6 + 1)
        + 1
        + FRESHNESS_PANEL,
    ),
    # The Versions tab: get_model (its versions with their metrics already), the assets of the training sets (as on
    # the model page), the one walk upstream, the trust header without deprecated inputs (nothing upstream) and
    # tags, the badge computed with the card's facts (quality thresholds among them), the header's freshness panel
    Page(
        "model versions tab",
        None,
        _tab(_model_page, "versions"),
        # the badge also reads the model's monitoring status (issue 19): + 1
        SIGNED_IN + UNREAD + GET_MODEL + 1 + 1 + (TRUST_HEADER - 2) + (BADGE_COMPUTED - 1 + 6 + 1) + FRESHNESS_PANEL,
        shows_newest=False,  # the rows named "Item" are assumptions and users, on the Card tab
    ),
    # The Quality tab of a dataset (quality.views.dataset_quality): the asset with can_edit; its checks, their
    # latest 200 results (the charts), the dataQualityMetrics of its latest runs (quality.DatasetMetrics), the dbt
    # source freshness observations
    Page("dataset quality tab", None, _quality_tab, SIGNED_IN + UNREAD + 1 + 4),
    # The Monitoring tab of a model (mlops.views.monitoring): get_model (the version in use among its versions); its
    # ops row with the challenger and the prediction table's dataset and asset; the charted runs (the latest and the
    # ten recent among them) and all their results, each read once; the maturity level (a succeeded training job,
    # the checklist ticks of the version in use, a logged prediction, an active delivery hook; the ops row is the
    # page's); then, from the template: the scoring schedules with version, dataset, asset and last run, the team's
    # hooks. The datasets are typed with suggestions (catalog.forms.AssetField), not listed.
    Page("model monitoring tab", None, _monitoring_tab, SIGNED_IN + UNREAD + GET_MODEL + 3 + 4 + 2),
    # The maturity list (mlops.views.maturity_list): the models with asset, ops row and whether
    # each was trained here, has logged predictions and an active webhook of its team; their versions with whether
    # they have training data and metrics; the version-control ticks of those versions (mlops.maturity.with_facts)
    Page("maturity list", "/mlops/", _maturity, SIGNED_IN + UNREAD + 3),
    # get_model, the evaluation sets' assets, the training sets' assets, checklist ticks, promotion requests,
    # stage changes, quality waivers
    Page("version page", None, _version_page, SIGNED_IN + UNREAD + GET_MODEL + 2 + 4),
    # get_model, the card; the facts it holds too (issue 17): the teams and the people to choose from (the gates and
    # the datasets the current version learned from are get_model's; other datasets are typed with suggestions,
    # catalog.forms.AssetsField, not listed)
    Page("card editor", None, _card_editor, SIGNED_IN + UNREAD + GET_MODEL + 1 + 2),
    # counts by status, the page's policies in board order, those rows with asset, owner and team, the checks
    # waiting for the worker, active jobs, latest alerts
    Page("freshness board", "/monitoring/", _board, SIGNED_IN + UNREAD + 6),
    # the asset, its policy, the policy read again (refresh_from_db), its checks, the walk upstream, the inputs'
    # policies, their assets, latest alerts
    Page("freshness detail", None, _freshness_detail, SIGNED_IN + UNREAD + 8),
    Page("job list", "/jobs/", _jobs(JobKind.SCHEMA_SCAN), SIGNED_IN + UNREAD + LIST),
    Page("alerts", "/alerts/", _alerts, SIGNED_IN + UNREAD + LIST),
    Page("inbox", "/inbox/", _notifications, SIGNED_IN + UNREAD + LIST),
    Page("issues", "/issues/?state=", _issues, SIGNED_IN + UNREAD + LIST),
    Page("change requests", "/requests/?state=", _change_requests, SIGNED_IN + UNREAD + LIST),
    # the issue with asset, owner, team and reporter; the other issues of the asset (the owner's choices of what
    # it duplicates); its history with authors
    Page("issue page", None, _issue_page, SIGNED_IN + UNREAD + 3),
    # teams, owned assets, the team's, watched ones, dependencies not acknowledged, unread notifications, tokens
    Page("profile", "/accounts/profile/", _profile, SIGNED_IN + UNREAD + 7),
    # conventions, the assets they apply to, the counts of each missing field; a list of incomplete assets
    Page("hygiene", "/catalog/hygiene/", _hygiene, SIGNED_IN + UNREAD + 3 + LIST),
]

# An API request signed with a token: the token with its user (one query; its first use of the minute is written
# during the warm-up). A list: the count, the page.
TOKEN = 1

# Every list endpoint of /api/v1/, by route name (``test_every_api_list_is_pinned`` keeps this complete).
API_LISTS = [
    # + tags
    Page("asset-list", "/api/v1/assets/", _kind(AssetKind.DATASET), TOKEN + LIST + 1),
    Page("source-list", "/api/v1/sources/", _kind(AssetKind.SOURCE), TOKEN + LIST + 1),
    Page("dataset-list", "/api/v1/datasets/", _kind(AssetKind.DATASET), TOKEN + LIST + 1),
    Page("report-list", "/api/v1/reports/", _kind(AssetKind.REPORT), TOKEN + LIST + 1),
    Page("pipeline-list", "/api/v1/pipelines/", _kind(AssetKind.PIPELINE), TOKEN + LIST + 1),
    Page("scan-list", "/api/v1/scans/", _jobs(JobKind.SCHEMA_SCAN), TOKEN + LIST, shows_newest=False),
    # assumptions, developers, users, the versions' facts (completeness), tags and approvers are JSON arrays in the
    # page's statement (issue 18: core.onequery), and the count beside each row (core.onequery.CompiledPage)
    Page("model-list", "/api/v1/models/", _models, TOKEN + 1),
    # metrics, training sets, evaluation sets, ticks: JSON arrays in the page's statement, the count beside each row;
    # a page with versions says the model exists
    Page("model-version-list", None, _versions_api, TOKEN + 1, shows_newest=False),
    Page("notification-list", "/api/v1/notifications/", _notifications, TOKEN + LIST),
    Page("job-run-list", "/api/v1/job-runs/", _jobs(JobKind.SCHEMA_SCAN), TOKEN + LIST),
    Page("training-run-list", "/api/v1/training-runs/", _jobs(JobKind.TRAINING), TOKEN + LIST),
    Page(
        "freshness-policy-list",
        "/api/v1/freshness-policies/",
        _team_policies,
        TOKEN + LIST,
    ),
    Page("freshness-check-list", "/api/v1/freshness-checks/", _freshness_checks, TOKEN + LIST, shows_newest=False),
    Page("alert-list", "/api/v1/alerts/", _alerts, TOKEN + LIST),
    # + stored badges
    Page("badge-list", "/api/v1/badges/", _kind(AssetKind.DATASET), TOKEN + LIST + 1),
    # + impacts, their assets
    Page("deprecation-list", "/api/v1/deprecations/", _deprecations, TOKEN + LIST + 2),
    # + history events, their authors
    Page("issue-list", "/api/v1/issues/", _issues, TOKEN + LIST + 2),
    Page("watch-list", "/api/v1/watches/", _watches, TOKEN + LIST),
    # dependencies with dataset and consumers joined (one query)
    Page("dependency-list", "/api/v1/dependencies/", _dependencies, TOKEN + LIST, shows_newest=False),
    # + history events, their authors
    Page("change-request-list", "/api/v1/change-requests/", _change_requests, TOKEN + LIST + 2),
    # + members
    Page("team-list", "/api/v1/teams/", _teams, TOKEN + LIST + 1),
]


def _measure(page, client, world):
    for n in (SMALL, LARGE - SMALL):
        url = page.build(world, n) or page.url
        assert client.get(url).status_code == 200  # the first view stores what later views read
        with assert_num_queries(page.queries):
            response = client.get(url)
        assert response.status_code == 200
        if page.shows_newest:
            text = response.content.decode()
            assert world.newest in text or slugify(world.newest) in text, (
                f"the rows built for {page.name} are not on it"
            )


@pytest.mark.parametrize("page", [page.param() for page in PAGES])
def test_page_queries(page, owner, team, client_for):
    _measure(page, client_for(owner), World(owner, team))


@pytest.mark.parametrize("page", [page.param() for page in API_LISTS])
def test_api_list_queries(page, owner, team):
    _measure(page, factories.api_client(owner), World(owner, team))


def _route_names(patterns, prefix=""):
    for pattern in patterns:
        if hasattr(pattern, "url_patterns"):
            yield from _route_names(pattern.url_patterns, prefix + str(pattern.pattern))
        elif pattern.name:
            yield prefix + str(pattern.pattern), pattern.name


def test_every_api_list_is_pinned():
    lists = {name for route, name in _route_names(get_resolver().url_patterns) if route.startswith("api/v1/")}
    lists = {name for name in lists if name.endswith("-list")}
    assert lists == {page.name for page in API_LISTS}
