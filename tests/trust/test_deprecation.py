"""Deprecation: proposal, downstream impact and notices, acknowledgement, withdrawal and retirement at sunset."""

from datetime import date, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from catalog.choices import Lifecycle
from catalog.models import Asset
from core.models import Notification
from registry.choices import Stage
from tests import factories
from tests.helpers import tell_deprecations
from trust.choices import DeprecationState
from trust.models import Deprecation, DeprecationImpact

pytestmark = pytest.mark.django_db

NOW = "2026-11-02 09:00Z"
SUNSET = date(2026, 12, 1)


@pytest.fixture
def lineage(owner, team):
    """Legacy orders feeds Daily sales, which feeds the Executive dashboard (owned by Bob); Orders v2 replaces it."""
    bob = factories.user("bob")
    legacy = factories.dataset("Legacy orders", owner=owner, team=team).asset
    replacement = factories.dataset("Orders v2", owner=owner, team=team).asset
    daily = factories.dataset("Daily sales", owner=bob).asset
    dashboard = factories.report("Executive dashboard", owner=bob).asset
    factories.edge(legacy, daily)
    factories.edge(daily, dashboard)
    return {"legacy": legacy, "replacement": replacement, "daily": daily, "dashboard": dashboard, "bob": bob}


def _propose(lineage, by, **overrides):
    fields = {
        "reason": "Replaced by the validated v2 table.",
        "sunset_date": SUNSET,
        "replacement": lineage["replacement"],
    }
    return Deprecation.propose(lineage["legacy"], by=by, **{**fields, **overrides})


@time_machine.travel(NOW, tick=False)
def test_proposing_marks_the_asset_lists_everything_downstream_and_tells_their_owners_and_watchers(
    lineage, owner, teammate
):
    watcher = factories.user("wendy")
    lineage["legacy"].watches.create(user=watcher)
    deprecation = _propose(lineage, owner)
    assert tell_deprecations() == 1
    assert Asset.objects.get(pk=lineage["legacy"].pk).lifecycle == Lifecycle.DEPRECATED
    assert [(impact.asset.name, impact.hops) for impact in deprecation.impacts.all()] == [
        ("Daily sales", 1),
        ("Executive dashboard", 2),
    ]
    notices = Notification.objects.filter(kind="deprecation")
    assert {notice.recipient.username for notice in notices} == {"bob", "wendy", "tom"}
    # bob owns both assets downstream: one message, each with its path back to Legacy orders.
    bobs = notices.get(recipient=lineage["bob"])
    assert bobs.title == "Legacy orders: deprecated, to be retired on 01 Dec 2026, upstream of 2 of your assets"
    assert "Use Orders v2 (dataset) instead." in bobs.body
    assert "Executive dashboard ← Daily sales ← Legacy orders: deprecated" in bobs.body
    # The team of the deprecated asset reads what is affected downstream.
    assert "Affected downstream: Daily sales, Executive dashboard." in notices.get(recipient=teammate).body


@time_machine.travel(NOW, tick=False)
def test_bad_proposals_are_refused_and_change_nothing(lineage, owner, outsider):
    with pytest.raises(PermissionDenied):
        _propose(lineage, outsider)
    with pytest.raises(ValidationError) as past:
        _propose(lineage, owner, sunset_date=date(2026, 11, 2))
    assert "future" in str(past.value)
    with pytest.raises(ValidationError):
        _propose(lineage, owner, reason="  ")
    with pytest.raises(ValidationError):
        _propose(lineage, owner, replacement=lineage["legacy"])
    assert Asset.objects.get(pk=lineage["legacy"].pk).lifecycle == Lifecycle.ACTIVE
    assert not Deprecation.objects.exists() and not Notification.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_an_asset_cannot_be_deprecated_twice_nor_replaced_by_a_deprecated_one(lineage, owner):
    _propose(lineage, owner)
    with pytest.raises(ValidationError, match="already deprecated"):
        _propose(lineage, owner)
    with pytest.raises(ValidationError, match="replacement"):
        Deprecation.propose(
            lineage["daily"], by=lineage["bob"], reason="x", sunset_date=SUNSET, replacement=lineage["legacy"]
        )


@time_machine.travel(NOW, tick=False)
def test_downstream_owners_acknowledge_once_and_only_for_their_own_assets(lineage, owner):
    deprecation = _propose(lineage, owner)
    impact = DeprecationImpact.objects.get(deprecation=deprecation, asset=lineage["dashboard"])
    with pytest.raises(PermissionDenied):
        impact.acknowledge(by=owner)
    impact.acknowledge(by=lineage["bob"], note="Moved to v2 on Friday.")
    assert impact.acknowledged_by == lineage["bob"] and impact.acknowledged_at
    with pytest.raises(ValidationError, match="already"):
        impact.acknowledge(by=lineage["bob"])
    told = Notification.objects.filter(recipient=owner, title="Executive dashboard has moved off Legacy orders")
    assert told.get().body == "Moved to v2 on Friday."


def test_withdrawing_before_the_date_restores_the_asset_and_tells_everyone(lineage, owner, outsider):
    with time_machine.travel(NOW, tick=False):
        deprecation = _propose(lineage, owner)
        with pytest.raises(PermissionDenied):
            deprecation.withdraw(by=outsider)
        deprecation.withdraw(by=owner)
        assert tell_deprecations() == 2  # the announcement, then the withdrawal
    assert deprecation.state == DeprecationState.WITHDRAWN
    assert Asset.objects.get(pk=lineage["legacy"].pk).lifecycle == Lifecycle.ACTIVE
    assert Notification.objects.filter(recipient=lineage["bob"], title__contains="withdrawn").exists()
    with pytest.raises(ValidationError):
        deprecation.withdraw(by=owner)
    with time_machine.travel("2026-12-02 09:00Z", tick=False):
        assert Deprecation.retire_due() == 0
    assert Asset.objects.get(pk=lineage["legacy"].pk).lifecycle == Lifecycle.ACTIVE


def test_the_sweep_retires_on_the_sunset_date_not_before_and_only_once(lineage, owner):
    with time_machine.travel(NOW, tick=False):
        deprecation = _propose(lineage, owner)
    with time_machine.travel("2026-11-30 23:00Z", tick=False):
        assert Deprecation.retire_due() == 0
    with time_machine.travel("2026-12-01 00:30Z", tick=False):
        assert Deprecation.retire_due() == 1
        assert Deprecation.retire_due() == 0
        tell_deprecations()
    deprecation.refresh_from_db()
    assert deprecation.state == DeprecationState.RETIRED and deprecation.retired_at
    legacy = Asset.objects.get(pk=lineage["legacy"].pk)
    assert legacy.lifecycle == Lifecycle.RETIRED
    assert legacy not in Asset.objects.visible()
    title = "Legacy orders: retired, upstream of 2 of your assets"  # bob owns both assets downstream
    assert Notification.objects.filter(recipient=lineage["bob"], title=title).count() == 1
    with pytest.raises(ValidationError):
        deprecation.withdraw(by=owner)


def test_many_sunsets_on_one_day_are_retired_a_batch_per_run_earliest_first(owner):
    tables = [factories.dataset(f"Table {n}", owner=owner).asset for n in range(3)]
    with time_machine.travel(NOW, tick=False):
        for days, table in zip((3, 1, 2), tables, strict=True):
            Deprecation.propose(table, by=owner, reason="Unused.", sunset_date=SUNSET - timedelta(days=days))
    with time_machine.travel("2026-12-01 08:00Z", tick=False):
        assert Deprecation.retire_due(limit=2) == 2
        assert Asset.objects.get(pk=tables[0].pk).lifecycle == Lifecycle.RETIRED
        assert Asset.objects.get(pk=tables[1].pk).lifecycle == Lifecycle.DEPRECATED
        assert Deprecation.retire_due(limit=2) == 1
        assert Deprecation.retire_due(limit=2) == 0
    assert set(Asset.objects.filter(pk__in=[t.pk for t in tables]).values_list("lifecycle", flat=True)) == {
        Lifecycle.RETIRED
    }


def test_a_model_version_retires_through_the_same_path(owner):
    model = factories.registered_model("Churn", owner=owner)
    version = factories.model_version(model)
    with time_machine.travel(NOW, tick=False):
        Deprecation.propose(version.asset, by=owner, reason="v2 is better.", sunset_date=SUNSET)
    with time_machine.travel("2026-12-01 08:00Z", tick=False):
        assert Deprecation.retire_due() == 1
    version.asset.refresh_from_db()
    version.refresh_from_db()
    assert version.asset.lifecycle == Lifecycle.RETIRED
    # Retired through the registry's own stage change, so the version's stage history says why.
    assert version.stage == Stage.ARCHIVED
    assert version.stage_changes.get().reason == "Sunset date of its deprecation reached"


def test_a_proposal_in_the_future_counts_days_from_today(lineage, owner):
    with time_machine.travel(NOW, tick=False):
        deprecation = _propose(lineage, owner, sunset_date=date(2026, 11, 3))
    assert deprecation.sunset_date - date(2026, 11, 2) == timedelta(days=1)


@time_machine.travel(NOW, tick=False)
def test_the_request_tells_nobody_the_worker_tells_each_person_once(lineage, owner, django_capture_on_commit_callbacks):
    """A hub's deprecation reaches thousands of people: their messages are built by the worker, after the commit,
    and a task delivered twice (or the relay's second send) tells nobody twice."""
    with django_capture_on_commit_callbacks(execute=False) as sent:
        deprecation = _propose(lineage, owner)
    assert not Notification.objects.filter(kind="deprecation").exists()
    assert len(sent) >= 1
    assert Deprecation.untold(wait=timedelta(0)) == [(deprecation.pk, "announced")]
    assert Deprecation.tell(deprecation.pk, "announced") is True
    assert Deprecation.tell(deprecation.pk, "announced") is False
    assert Notification.objects.filter(recipient=lineage["bob"], kind="deprecation").count() == 1
    assert Deprecation.untold(wait=timedelta(0)) == []
