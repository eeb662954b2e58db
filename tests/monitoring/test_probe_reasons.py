"""Issue 13 item 10 and issue 14 item 10: readers never see a probe's raw exception text, its SQL filter or its
URL; they read the status and a plain reason. The asset's owners, its team and staff see the technical detail, the
filter and the URL, and a token in the URL's query string is masked for everyone."""

import sqlite3

import pytest

from catalog.choices import SourceKind
from monitoring.choices import FreshnessMethod, FreshnessStatus
from monitoring.freshness import run_probe
from tests import factories
from tests.monitoring.conftest import policy_for

# ``.invalid`` never resolves (RFC 2606): the payments API the Monthly finance pack is checked against is gone.
URL = "https://api.payments.invalid/v1/status?token=s3cret-t0ken&region=eu"
PLAIN = "could not reach api.payments.invalid: the name does not resolve"
RAW = ("HTTPSConnectionPool", "NameResolutionError", "Max retries")


@pytest.fixture
def finance_pack(owner, team):
    """The Monthly finance pack, checked over HTTP, whose last probe failed on an address that does not resolve."""
    report = factories.report("Monthly finance pack", owner=owner, team=team)
    policy = policy_for(report, method=FreshnessMethod.HTTP, url=URL, timeout_seconds=5)
    assert run_probe(policy) == FreshnessStatus.UNKNOWN
    policy.refresh_from_db()
    return report.asset, policy


def _pages(client, asset):
    return {
        "board": client.get("/monitoring/").content.decode(),
        "freshness detail": client.get(f"/monitoring/freshness/{asset.uuid}/").content.decode(),
        "asset page": client.get(asset.get_absolute_url()).content.decode(),
    }


@pytest.mark.django_db
def test_a_reader_sees_a_plain_reason_and_never_the_exception_the_filter_or_the_url(finance_pack, outsider, client_for):
    asset, policy = finance_pack
    for name, page in _pages(client_for(outsider), asset).items():
        for raw in (*RAW, "s3cret", "api.payments.invalid/v1"):
            assert raw not in page, (name, raw)
        assert PLAIN in page, name
    assert policy.probe_reason == PLAIN
    api = factories.api_client(outsider)
    [listed] = api.get("/api/v1/freshness-policies/").json()["results"]
    assert listed["reason"] == f"The check itself failed: {PLAIN}."
    assert (listed["probe_reason"], listed["probe_error"], listed["url"], listed["sql_filter"]) == (PLAIN, "", "", "")
    single = api.get(f"/api/v1/freshness-policies/{asset.uuid}/").json()
    assert (single["probe_error"], single["url"]) == ("", "")
    [check] = api.get(f"/api/v1/freshness-checks/?asset={asset.uuid}").json()["results"]
    assert check["reason"] == f"The check itself failed: {PLAIN}." and check["error"] == ""


@pytest.mark.django_db
def test_owners_their_team_and_staff_see_the_detail_with_the_token_masked(
    finance_pack, owner, teammate, staff, client_for
):
    asset, policy = finance_pack
    assert "s3cret" not in policy.probe_error and "NameResolutionError" in policy.probe_error
    for person in (owner, teammate, staff):
        detail = client_for(person).get(f"/monitoring/freshness/{asset.uuid}/").content.decode()
        assert PLAIN in detail and 'data-testid="probe-detail"' in detail and "NameResolutionError" in detail
        assert "token=•••&amp;region=eu" in detail and "s3cret" not in detail
        [listed] = factories.api_client(person).get("/api/v1/freshness-policies/").json()["results"]
        assert listed["url"] == "https://api.payments.invalid/v1/status?token=•••&region=eu"
        assert "NameResolutionError" in listed["probe_error"] and "s3cret" not in listed["probe_error"]
    # The masked address sent back unchanged keeps the real one.
    api = factories.api_client(owner)
    response = api.patch(f"/api/v1/freshness-policies/{asset.uuid}/", {"url": listed["url"]}, format="json")
    assert response.status_code == 200
    policy.refresh_from_db()
    assert policy.url == URL


@pytest.mark.django_db
def test_database_failures_are_named_without_quoting_the_driver(owner, outsider, client_for, settings, tmp_path,
                                                                 closed_port):  # fmt: skip
    settings.DATA_ROOT = tmp_path
    sqlite3.connect(tmp_path / "store.sqlite3").close()
    cases = [
        (SourceKind.SQLITE, {"path": "store.sqlite3"}, "the table orders does not exist", "no such table"),
        (SourceKind.POSTGRESQL, {"host": "127.0.0.1", "port": closed_port, "database": "x"},
         "could not reach 127.0.0.1: the connection was refused", "connection refused"),
    ]  # fmt: skip
    for n, (kind, connection, plain, raw) in enumerate(cases):
        source = factories.source(f"Store {n}", source_kind=kind, connection=connection, owner=owner)
        if source.is_networked:
            factories.allowed_host(*source.address())
        dataset = factories.dataset(f"Orders {n}", source_=source, qualified_name="orders", owner=owner,
                                    columns=[("updated_at", "timestamp")])  # fmt: skip
        policy = policy_for(dataset, method=FreshnessMethod.SQL, timestamp_column="updated_at", timeout_seconds=3,
                            filter_column="status", filter_operator="=", filter_value="shipped")  # fmt: skip
        assert run_probe(policy) == FreshnessStatus.UNKNOWN
        page = client_for(outsider).get(f"/monitoring/freshness/{dataset.asset.uuid}/").content.decode()
        assert raw not in page and "shipped" not in page and plain in page
        policy.refresh_from_db()
        assert (policy.probe_reason, raw in policy.probe_error) == (plain, True)
        assert "shipped" in client_for(owner).get(f"/monitoring/freshness/{dataset.asset.uuid}/").content.decode()


@pytest.mark.django_db
def test_an_http_error_answer_names_the_host_not_the_address(owner, outsider, client_for, http_server):
    def respond(handler):
        handler.send_response(503)
        handler.end_headers()

    url = f"{http_server(respond)}/status?api_key=k3y"
    policy = policy_for(factories.report("Payments feed", owner=owner), method=FreshnessMethod.HTTP, url=url)
    run_probe(policy)
    policy.refresh_from_db()
    assert policy.probe_reason == "127.0.0.1 answered HTTP 503."
    assert policy.probe_error == f"{url.replace('k3y', '•••')} answered HTTP 503."
