"""Finding 4, in a browser: with the Content-Security-Policy (script-src 'self', no inline script) the main pages
still work (charts drawn, the lineage depth picker submits, htmx answers) and the browser reports no violation."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from catalog.choices import RunOrigin, RunState
from catalog.models import PipelineRun
from monitoring.models import FreshnessCheck
from registry.services import register_version
from tests import factories
from tests.registry.helpers import model_with_card

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _world(owner):
    orders = factories.dataset("Orders", owner=owner, description="Orders of the **shop**.")
    etl = factories.pipeline("Orders ETL", owner=owner)
    factories.edge(etl.asset, orders.asset)
    now = timezone.now()
    for day in range(5):
        start = now - timedelta(days=day, hours=2)
        PipelineRun.objects.create(
            pipeline=etl, run_id=f"r{day}", origin=RunOrigin.OPENLINEAGE, state=RunState.COMPLETE,
            started_at=start, ended_at=start + timedelta(minutes=10), output_rows=1000 + day,
        )  # fmt: skip
    policy = factories.freshness_policy(orders, last_seen_at=now - timedelta(hours=1))
    FreshnessCheck.objects.create(policy=policy, checked_at=now - timedelta(hours=1), trigger="ping", status="fresh")
    model, _ = model_with_card(owner)
    register_version(model, created_by=owner, metrics={"f1": 0.8}, algorithm="Random forest")
    return orders, etl, model


def test_the_main_pages_work_under_the_csp_with_no_violation(page, live_server, sign_in, page_errors):
    owner = factories.user("olivia", teams=[factories.team("Data Platform")])
    orders, etl, model = _world(owner)
    violations = []
    page.on("console", lambda message: "Content Security Policy" in message.text and violations.append(message.text))
    sign_in(page, owner)

    response = page.goto(f"{live_server.url}/")
    policy_header = response.headers["content-security-policy"]
    assert (
        "script-src 'self'" in policy_header
        and "unsafe-inline" not in policy_header.split("script-src")[1].split(";")[0]
    )

    for path in ["/catalog/", "/catalog/reports/", "/issues/", "/monitoring/",
                 orders.asset.get_absolute_url(), model.get_absolute_url(), "/accounts/profile/",
                 "/accounts/password/"]:  # fmt: skip
        page.goto(f"{live_server.url}{path}")
        expect(page.locator("h1").first).to_be_visible()

    # Plotly charts from static files, data from json_script: drawn.
    page.goto(f"{live_server.url}/monitoring/pipelines/{etl.asset.slug}/")
    expect(page.locator("[data-testid=chart] .main-svg").first).to_be_visible()
    page.goto(f"{live_server.url}/monitoring/freshness/{orders.asset.uuid}/")
    expect(page.locator("h1")).to_be_visible()
    page.goto(f"{live_server.url}{model.get_absolute_url()}compare/")
    expect(page.locator(".chart .main-svg").first).to_be_visible()

    # The lineage depth picker submits its form without an inline handler.
    page.goto(f"{live_server.url}{orders.asset.get_absolute_url()}lineage/")
    page.locator("select[name=depth]").select_option("2")
    expect(page).to_have_url(f"{live_server.url}{orders.asset.get_absolute_url()}lineage/?depth=2")

    # The printable card's print link is wired by the static script (printing itself is not run here).
    page.goto(f"{live_server.url}{model.get_absolute_url()}card/print/")
    expect(page.locator("a[data-print]")).to_be_visible()

    # The API docs start Swagger UI from a script file, not inline.
    page.goto(f"{live_server.url}/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Data & model portal API", timeout=30_000)

    assert violations == []
    assert page_errors == []


def test_an_inline_script_slipped_into_a_page_would_not_run(page, live_server, sign_in):
    """The policy itself, as the browser applies it: an injected inline script is refused."""
    owner = factories.user("olivia")
    sign_in(page, owner)
    page.goto(f"{live_server.url}/")
    ran = page.evaluate(
        """() => new Promise((resolve) => {
            window.__ran = false;
            document.addEventListener("securitypolicyviolation", () => resolve(window.__ran), {once: true});
            const script = document.createElement("script");
            script.textContent = "window.__ran = true";
            document.body.appendChild(script);
            setTimeout(() => resolve(window.__ran), 2000);
        })"""
    )
    assert ran is False
