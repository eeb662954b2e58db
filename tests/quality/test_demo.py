"""The demo warehouse's dbt project: a failing test on one column, on the page and in a report's badge."""

from catalog.models import Asset
from quality.choices import CheckStatus
from quality.models import QualityCheck
from trust.badges import badges_for
from trust.choices import TrustLevel


def test_the_demo_shows_a_failing_dbt_test_on_returns_reason_and_the_report_downstream_says_so(demo, client):
    failing = QualityCheck.objects.get(last_status=CheckStatus.FAIL)
    assert (failing.asset.slug, failing.column, failing.check_type) == ("returns", "reason", "accepted_values")
    report = Asset.objects.get(kind="report", slug="executive-sales")
    badge = badges_for([report])[report.pk]
    quality = next(verdict for verdict in badge.verdicts if verdict.rule == "quality")
    assert quality.level == TrustLevel.DO_NOT_USE and "on column reason of Returns (upstream)" in quality.reason
    client.force_login(report.owner)
    page = client.get("/quality/dataset/returns/").content.decode()
    assert "1 failing check:" in page and "<code>reason</code>" in page
