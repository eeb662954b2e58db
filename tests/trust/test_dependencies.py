"""Declared dependencies: declaring, the owner's buy-in or refusal, who is told before a breaking change, and a
column dependency honoured by schema-change alerts."""

from datetime import time, timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from catalog.assets import set_column_lineage
from catalog.choices import SchemaChangeOrigin
from catalog.models import Watch
from catalog.scanning import FoundColumn, apply_schema
from core.choices import NotificationKind
from core.models import Notification
from tests import factories
from tests.helpers import tell_deprecations
from trust import downstream
from trust.choices import DependencyStatus, NoticeState
from trust.models import Dependency, Deprecation, ProblemNotice

pytestmark = pytest.mark.django_db
COLUMNS = [("id", "bigint"), ("amount", "numeric"), ("region", "text")]


@pytest.fixture
def orders(owner, team):
    return factories.dataset("Orders", columns=COLUMNS, owner=owner, team=team).asset


@pytest.fixture
def erin(db):
    return factories.user("erin")


def _titles(user, kind=None):
    rows = Notification.objects.filter(recipient=user)
    if kind:
        rows = rows.filter(kind=kind)
    return list(rows.order_by("pk").values_list("title", flat=True))


# --- declaring ----------------------------------------------------------------------------------------------------
def test_a_reader_declares_a_dependency_and_the_owner_is_asked(orders, owner, erin, client_for):
    response = client_for(erin).post(
        f"/assets/dataset/{orders.slug}/depend/",
        {"consumer_kind": "person", "columns": ["amount", "region"], "needed_by": "07:00", "purpose": "Board pack"},
    )
    assert response.status_code == 302
    dependency = Dependency.objects.get(dataset=orders)
    assert (dependency.consumer_user, dependency.columns, dependency.needed_by) == (erin, ["amount", "region"], time(7))
    assert dependency.status == DependencyStatus.PENDING
    assert _titles(owner, NotificationKind.DEPENDENCY) == ["erin depends on Orders: please acknowledge"]
    page = client_for(factories.user("someone")).get(orders.get_absolute_url()).content.decode()
    assert "Who depends on it" in page and "columns amount, region; updated by 07:00 each day" in page
    assert "Awaiting the owner" in page


def test_an_unknown_column_is_refused_with_its_name_and_the_form_keeps_what_was_typed(orders, erin, client_for):
    with pytest.raises(ValidationError, match="Orders has no column colour"):
        Dependency.declare(orders, by=erin, consumer=erin, columns=["colour"])
    response = client_for(erin).post(
        f"/assets/dataset/{orders.slug}/depend/", {"consumer_kind": "team", "purpose": "Kept text"}
    )
    assert response.status_code == 400
    assert "Choose the team that depends on it." in response.content.decode()
    assert "Kept text" in response.content.decode()


def test_declaring_twice_is_refused_clearly(orders, erin):
    Dependency.declare(orders, by=erin, consumer=erin)
    with pytest.raises(ValidationError, match="erin already declared a dependency on Orders"):
        Dependency.declare(orders, by=erin, consumer=erin)


def test_nobody_declares_for_a_team_or_an_asset_they_do_not_speak_for(orders, outsider, team, owner):
    other_report = factories.report("Board pack", owner=owner).asset
    with pytest.raises(PermissionDenied):
        Dependency.declare(orders, by=outsider, consumer=team)
    with pytest.raises(PermissionDenied):
        Dependency.declare(orders, by=outsider, consumer=other_report)
    with pytest.raises(PermissionDenied):
        Dependency.declare(orders, by=outsider, consumer=owner)
    assert not Dependency.objects.exists()


def test_the_api_refuses_a_team_the_outsider_is_not_in(orders, outsider, team):
    client = factories.api_client(outsider)
    response = client.post(
        "/api/v1/dependencies/",
        {"dataset": str(orders.uuid), "consumer_team": team.slug},
        content_type="application/json",
    )
    assert response.status_code == 403, response.content
    response = client.post(
        "/api/v1/dependencies/",
        {"dataset": str(orders.uuid), "consumer_user": outsider.username, "columns": ["nope"]},
        content_type="application/json",
    )
    assert response.status_code == 400 and "no column nope" in response.content.decode()
    assert not Dependency.objects.exists()


# --- buy-in -------------------------------------------------------------------------------------------------------
def test_the_owner_acknowledges_and_the_consumer_is_told(orders, owner, erin, client_for):
    dependency = Dependency.declare(orders, by=erin, consumer=erin)
    assert client_for(erin).get("/accounts/profile/").content.decode().count("Awaiting the owner") == 1
    response = client_for(owner).post(f"/dependencies/{dependency.uuid}/acknowledge/")
    assert response.status_code == 302
    dependency.refresh_from_db()
    assert (dependency.status, dependency.decided_by) == (DependencyStatus.ACKNOWLEDGED, owner)
    assert _titles(erin) == ["Orders's owner acknowledged your dependency"]
    assert "Awaiting the owner" not in client_for(erin).get("/accounts/profile/").content.decode()


def test_the_owner_declines_with_a_reason_and_the_consumer_reads_it(orders, owner, erin, client_for):
    dependency = Dependency.declare(orders, by=erin, consumer=erin)
    response = client_for(owner).post(f"/dependencies/{dependency.uuid}/decline/", {"reason": ""})
    dependency.refresh_from_db()
    assert dependency.status == DependencyStatus.PENDING  # no reason, nothing recorded
    client_for(owner).post(f"/dependencies/{dependency.uuid}/decline/", {"reason": "Being replaced by Orders v2."})
    dependency.refresh_from_db()
    assert (dependency.status, dependency.decline_reason) == (DependencyStatus.DECLINED, "Being replaced by Orders v2.")
    notice = Notification.objects.get(recipient=erin)
    assert notice.title == "Orders's owner declined your dependency" and "Being replaced by Orders v2." in notice.body
    profile = client_for(erin).get("/accounts/profile/").content.decode()
    assert "Declined" in profile and "Being replaced by Orders v2." in profile
    assert response.status_code == 302


def test_an_acknowledged_dependency_cannot_be_acknowledged_again(orders, owner, erin):
    dependency = Dependency.declare(orders, by=erin, consumer=erin)
    dependency.acknowledge(by=owner)
    with pytest.raises(ValidationError, match="acknowledged cannot become “acknowledged”"):
        dependency.acknowledge(by=owner)


def test_the_outsider_can_neither_acknowledge_decline_nor_withdraw(orders, erin, outsider, client_for):
    dependency = Dependency.declare(orders, by=erin, consumer=erin)
    client = client_for(outsider)
    assert client.post(f"/dependencies/{dependency.uuid}/acknowledge/").status_code == 403
    assert client.post(f"/dependencies/{dependency.uuid}/decline/", {"reason": "no"}).status_code == 403
    assert client.post(f"/dependencies/{dependency.uuid}/withdraw/").status_code == 403
    api = factories.api_client(outsider)
    assert api.post(f"/api/v1/dependencies/{dependency.uuid}/acknowledge/").status_code == 403
    dependency.refresh_from_db()
    assert dependency.status == DependencyStatus.PENDING


def test_a_team_dependency_speaks_for_its_members(orders, owner, erin, client_for):
    analysts = factories.team("Analysts")
    erin.teams.add(analysts)
    colleague = factories.user("carl", teams=[analysts])
    dependency = Dependency.declare(orders, by=erin, consumer=analysts)
    assert "Orders" in client_for(colleague).get("/accounts/profile/").content.decode()
    dependency.decline(by=owner, reason="No.")
    assert _titles(colleague) == ["Orders's owner declined your dependency"]


# --- breaking changes ---------------------------------------------------------------------------------------------
def _rescan_without(dataset_asset, removed):
    columns = [FoundColumn(name, data_type) for name, data_type in COLUMNS if name != removed]
    return apply_schema(dataset_asset.dataset, columns, SchemaChangeOrigin.SCAN)


def test_a_column_dependency_is_not_alerted_for_other_columns(orders, owner, erin):
    """erin reads amount only: region going away does not concern her, though she watches Orders."""
    factories.user("watcher")
    from catalog.models import Watch

    Watch.objects.create(user=erin, asset=orders)
    Dependency.declare(orders, by=erin, consumer=erin, columns=["amount"])
    Notification.objects.all().delete()
    _rescan_without(orders, "region")
    assert _titles(erin) == []
    assert _titles(owner) == ["Schema changed: Orders"]


def test_a_consumer_of_the_removed_column_is_told_first(orders, owner, erin):
    Dependency.declare(orders, by=erin, consumer=erin, columns=["amount"])
    everyone = factories.user("all-of-it")
    Dependency.declare(orders, by=everyone, consumer=everyone)
    Notification.objects.all().delete()
    mail.outbox.clear()
    _rescan_without(orders, "amount")
    assert _titles(erin) == ["Breaking change on Orders: removed amount"]
    assert _titles(everyone) == ["Breaking change on Orders: removed amount"]
    first = Notification.objects.order_by("pk").first()
    assert first.recipient in (erin, everyone)  # the consumers before the owner's general notice
    assert _titles(owner) == ["Schema changed: Orders"]


def _fan_out():
    """What the worker does with the notices of problems told downstream, sent on commit."""
    for pk in ProblemNotice.objects.filter(state=NoticeState.PENDING).values_list("pk", flat=True):
        downstream.fan_out(pk)


def test_without_column_lineage_everyone_downstream_hears_but_a_consumer_of_other_columns(orders, owner, erin):
    """Nothing is known column by column downstream of Orders: all of it hears of a breaking change, once each,
    except erin, who declared she reads amount only, though she watches the report."""
    bob, frank = factories.user("bob"), factories.user("frank")
    report = factories.report("Revenue report", owner=bob).asset
    factories.edge(orders, report)
    Watch.objects.create(user=erin, asset=report)
    Watch.objects.create(user=frank, asset=report)
    Dependency.declare(orders, by=erin, consumer=erin, columns=["amount"])
    Dependency.declare(orders, by=frank, consumer=frank, columns=["region"])
    Notification.objects.all().delete()
    _rescan_without(orders, "region")
    _fan_out()
    assert _titles(erin) == []
    # frank reads region: told first as a declared consumer, and that is the one message he gets.
    assert _titles(frank) == ["Breaking change on Orders: removed region"]
    assert _titles(bob, NotificationKind.UPSTREAM) == [
        "Revenue report ← Orders: breaking schema change on Orders: removed region"
    ]


def test_with_column_lineage_the_readers_and_the_declared_consumers_of_the_column_hear_and_no_one_else(
    orders, owner, erin
):
    """Column lineage says the newsletter reads Orders.amount and the greetings read Orders.region. amount goes:
    the newsletter's people hear (with the path, further down), and dave, who declared he reads amount; carol,
    whose greetings read region, and erin, who declared she reads region only, do not."""
    bob, carol, dave, gina = (factories.user(name) for name in ("bob", "carol", "dave", "gina"))
    newsletter = factories.dataset("Newsletter", owner=bob, columns=[("amount", "numeric")]).asset
    greetings = factories.dataset("Greetings", owner=carol, columns=[("region", "text")]).asset
    mailing = factories.report("Mailing report", owner=gina).asset
    for reader in (newsletter, greetings):
        factories.edge(orders, reader)
    factories.edge(newsletter, mailing)
    set_column_lineage(newsletter.pk, {"amount": [(orders.pk, "amount", "")]}, actor=None, origin="openlineage")
    set_column_lineage(greetings.pk, {"region": [(orders.pk, "region", "")]}, actor=None, origin="openlineage")
    Watch.objects.create(user=erin, asset=newsletter)
    Dependency.declare(orders, by=erin, consumer=erin, columns=["region"])
    Dependency.declare(orders, by=dave, consumer=dave, columns=["amount"])
    Notification.objects.all().delete()
    _rescan_without(orders, "amount")
    _fan_out()
    assert _titles(dave) == ["Breaking change on Orders: removed amount"]
    assert _titles(bob) == ["Schema changed: Orders"]
    assert _titles(gina, NotificationKind.UPSTREAM) == [
        "Mailing report ← Newsletter: breaking schema change on Orders: removed amount (read by Newsletter: amount)"
    ]
    assert _titles(carol) == [] and _titles(erin) == []


def _check_on(dataset_asset, column, status, run):
    from quality import results

    results.record(
        [
            results.Observation(
                asset_id=dataset_asset.pk, key=f"not_null_{column}", name=f"not_null_{column}", column=column,
                run_key=f"run-{run}", status=status, executed_at=timezone.now() + timedelta(minutes=run),
            )
        ],
        origin="dbt",
    )  # fmt: skip


def test_a_failing_check_on_a_column_without_column_lineage_spares_the_consumers_of_other_columns_till_it_passes(
    orders, owner, erin
):
    """Nothing downstream of Orders is known column by column: a failing check on region reaches everyone
    downstream but erin, who declared she reads amount only; frank, who declared region, is told first (and not
    twice). The all-clear goes to the same people."""
    bob, frank = factories.user("bob"), factories.user("frank")
    report = factories.report("Revenue report", owner=bob).asset
    factories.edge(orders, report)
    for person in (erin, frank):
        Watch.objects.create(user=person, asset=report)
    Dependency.declare(orders, by=erin, consumer=erin, columns=["amount"])
    Dependency.declare(orders, by=frank, consumer=frank, columns=["region"])
    Notification.objects.all().delete()

    _check_on(orders, "region", "fail", 1)
    _fan_out()
    assert _titles(erin) == []
    assert _titles(frank) == ["Failing check on Orders: not_null_region"]
    assert _titles(bob, NotificationKind.UPSTREAM) == [
        "Revenue report ← Orders: failing check 'not_null_region' on column region of Orders"
    ]

    _check_on(orders, "region", "pass", 2)
    _fan_out()
    assert _titles(erin) == []
    assert _titles(frank)[1:] == ["Check passes again on Orders: not_null_region"]
    assert _titles(bob, NotificationKind.UPSTREAM)[1:] == [
        "Revenue report ← Orders: all clear, failing check 'not_null_region' on column region of Orders is over"
    ]


def test_a_failing_check_on_a_column_reaches_its_readers_and_what_reads_the_dataset_without_columns(
    orders, owner, erin
):
    """Column lineage says the newsletter reads Orders.amount and the greetings read Orders.region; a dashboard
    reads Orders itself (which columns, nobody says). The check on amount fails: the newsletter's owner and the
    dashboard's hear, the greetings' do not."""
    bob, carol, gina = (factories.user(name) for name in ("bob", "carol", "gina"))
    newsletter = factories.dataset("Newsletter", owner=bob, columns=[("amount", "numeric")]).asset
    greetings = factories.dataset("Greetings", owner=carol, columns=[("region", "text")]).asset
    dashboard = factories.report("Dashboard", owner=gina).asset
    for reader in (newsletter, greetings, dashboard):
        factories.edge(orders, reader)
    set_column_lineage(newsletter.pk, {"amount": [(orders.pk, "amount", "")]}, actor=None, origin="openlineage")
    set_column_lineage(greetings.pk, {"region": [(orders.pk, "region", "")]}, actor=None, origin="openlineage")
    Notification.objects.all().delete()

    _check_on(orders, "amount", "fail", 1)
    _fan_out()

    assert _titles(bob) == ["Newsletter ← Orders: failing check 'not_null_amount' on column amount of Orders"]
    assert _titles(gina) == ["Dashboard ← Orders: failing check 'not_null_amount' on column amount of Orders"]
    assert _titles(carol) == []


def test_a_failing_check_on_a_column_the_catalog_does_not_know_reaches_everything_downstream(orders, owner):
    """The test names "Amount", the catalog has "amount": nobody can say what reads it, so nobody is left out."""
    bob, carol = factories.user("bob"), factories.user("carol")
    greetings = factories.dataset("Greetings", owner=carol, columns=[("region", "text")]).asset
    factories.edge(orders, greetings)
    factories.edge(orders, factories.report("Revenue report", owner=bob))
    set_column_lineage(greetings.pk, {"region": [(orders.pk, "region", "")]}, actor=None, origin="openlineage")
    Notification.objects.all().delete()

    _check_on(orders, "Amount", "fail", 1)
    _fan_out()

    assert _titles(carol) == ["Greetings ← Orders: failing check 'not_null_Amount' on column Amount of Orders"]
    assert _titles(bob) == ["Revenue report ← Orders: failing check 'not_null_Amount' on column Amount of Orders"]


def test_a_deprecation_shows_the_owner_the_consumers_and_tells_them_first(orders, owner, erin, client_for):
    report = factories.report("Board pack", owner=owner).asset
    Dependency.declare(orders, by=owner, consumer=report, columns=["amount"])
    Dependency.declare(orders, by=erin, consumer=erin)
    form = client_for(owner).get(f"/assets/dataset/{orders.slug}/deprecate/").content.decode()
    assert "Declared consumers" in form and "Board pack" in form and "erin" in form
    Notification.objects.all().delete()
    Deprecation.propose(orders, by=owner, reason="Moving to v2.", sunset_date=timezone.localdate() + timedelta(30))
    tell_deprecations()  # the worker's part
    erin_titles = _titles(erin)
    assert erin_titles[0].startswith("Orders, which you depend on, will be retired on")
    kinds = list(Notification.objects.order_by("pk").values_list("kind", flat=True))
    told_first = kinds[: kinds.count(NotificationKind.DEPENDENCY)]
    assert told_first == [NotificationKind.DEPENDENCY] * 2  # erin, and the owner of the Board pack, before the rest


def test_withdrawing_removes_the_dependency(orders, erin, client_for):
    dependency = Dependency.declare(orders, by=erin, consumer=erin)
    assert client_for(erin).post(f"/dependencies/{dependency.uuid}/withdraw/").status_code == 302
    assert not Dependency.objects.exists()


def test_only_datasets_take_dependencies_through_the_api(owner, erin):
    report = factories.report("Board pack", owner=owner).asset
    response = factories.api_client(erin).post(
        "/api/v1/dependencies/",
        {"dataset": str(report.uuid), "consumer_user": "erin", "columns": ["x"]},
        content_type="application/json",
    )
    assert response.status_code == 400 and "Dependencies are declared on datasets." in response.content.decode()
