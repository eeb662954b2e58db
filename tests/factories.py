"""Small builders for test data. Each returns saved rows with sensible defaults that a test overrides."""

import itertools
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils.text import slugify

from accounts.models import Team
from catalog.choices import AssetKind, SourceKind
from catalog.models import Asset, Column, Dataset, DataSource, LineageEdge, Pipeline, Report
from registry.models import ModelVersion, RegisteredModel

_counter = itertools.count(1)
PASSWORD = "correct horse battery staple"


def team(name="Team"):
    return Team.objects.get_or_create(name=name, defaults={"slug": slugify(name)})[0]


def user(username=None, teams=(), **fields):
    username = username or f"user{next(_counter)}"
    person = get_user_model().objects.create_user(
        username=username, password=PASSWORD, email=f"{username}@example.com", **fields
    )
    person.teams.set(teams)
    return person


def asset(kind, name=None, **fields):
    name = name or f"{kind} {next(_counter)}"
    fields.setdefault("slug", slugify(name))
    return Asset.objects.create(kind=kind, name=name, **fields)


def source(name=None, source_kind=SourceKind.POSTGRESQL, connection=None, **fields):
    row = asset(AssetKind.SOURCE, name, **fields)
    return DataSource.objects.create(asset=row, source_kind=source_kind, connection=connection or {})


def dataset(name=None, source_=None, qualified_name=None, columns=(), **fields):
    row = asset(AssetKind.DATASET, name, **fields)
    source_ = source_ or source(owner=fields.get("owner"), team=fields.get("team"))
    made = Dataset.objects.create(asset=row, source=source_, qualified_name=qualified_name or row.slug)
    for position, (column_name, data_type) in enumerate(columns):
        Column.objects.create(dataset=made, name=column_name, data_type=data_type, position=position)
    return made


def report(name=None, **fields):
    row = asset(AssetKind.REPORT, name, **fields)
    return Report.objects.create(asset=row)


def pipeline(name=None, **fields):
    row = asset(AssetKind.PIPELINE, name, **fields)
    return Pipeline.objects.create(asset=row)


def registered_model(name=None, **fields):
    row = asset(AssetKind.MODEL, name, **fields)
    return RegisteredModel.objects.create(asset=row)


def model_version(model, version=None, **fields):
    version = version or model.versions.count() + 1
    row = asset(
        AssetKind.MODEL_VERSION, f"{model.asset.name} v{version}", owner=model.asset.owner, team=model.asset.team
    )
    return ModelVersion.objects.create(asset=row, model=model, version=version, **fields)


def edge(upstream, downstream, **fields):
    """Lineage from one asset (or kind row with ``.asset``) to another."""
    upstream = getattr(upstream, "asset", upstream)
    downstream = getattr(downstream, "asset", downstream)
    return LineageEdge.objects.create(upstream=upstream, downstream=downstream, **fields)


def data_issue(asset, reporter, severity="major", title=None, **fields):
    """An issue reported through the real workflow (routing, deadline, history row)."""
    from trust.choices import IssueCategory
    from trust.models import DataIssue

    fields.setdefault("category", IssueCategory.WRONG_VALUES)
    fields.setdefault("description", "The totals do not match the finance pack.")
    return DataIssue.report(
        getattr(asset, "asset", asset),
        by=reporter,
        title=title or f"Problem {next(_counter)}",
        severity=severity,
        **fields,
    )


def trusted_asset(owner, name=None, **fields):
    """A dataset that meets every rule the portal can check by itself: owned, documented, reviewed, certified."""
    from django.utils import timezone

    from trust.models import Certification

    today = timezone.localdate()
    made = dataset(
        name, owner=owner, description="All validated orders.", next_review_date=today + timedelta(days=30), **fields
    )
    made.intended_use = "Revenue analysis."
    made.save(update_fields=["intended_use"])
    Certification.certify(made.asset, by=owner, expires_on=today + timedelta(days=90))
    return made


def freshness_policy(asset, **fields):
    """A saved freshness policy on ``asset`` (or a kind row with ``.asset``): a daily heartbeat with one hour of
    grace unless told otherwise."""
    from monitoring.choices import FreshnessMethod
    from monitoring.models import FreshnessPolicy

    asset = getattr(asset, "asset", asset)
    fields.setdefault("method", FreshnessMethod.HEARTBEAT)
    fields.setdefault("period", timedelta(days=1))
    fields.setdefault("grace", timedelta(hours=1))
    return FreshnessPolicy.objects.create(asset=asset, **fields)


def api_client(user):
    """An API client that authenticates as ``user`` with a real Bearer token, the way programs call the API."""
    from rest_framework.test import APIClient

    from accounts.models import ApiToken

    client = APIClient()
    _, key = ApiToken.issue(user, "tests")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def allowed_host(host, port=None, portal_database=False):
    """What staff do in the admin before a PostgreSQL or MySQL source may point at ``host`` (and ``port``)."""
    from catalog.models import SourceHost

    return SourceHost.objects.get_or_create(
        host=str(host).lower(),
        port=int(port) if port else None,
        defaults={"may_reach_portal_database": portal_database},
    )[0]


def bound_secret(variable, source, host=None):
    """What staff do in the admin so ``source`` may send the ``variable`` secret to its host (or to ``host``)."""
    from catalog.models import SecretBinding

    return SecretBinding.objects.create(variable=variable, source=source, host=host or source.address()[0])
