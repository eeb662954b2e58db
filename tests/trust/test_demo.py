"""The demo's trust story (loading it twice adding nothing is checked in tests/portal/test_demo.py)."""

from catalog.models import Asset
from trust.badges import badges_for
from trust.choices import TrustLevel
from trust.models import DataIssue, Deprecation


def test_the_demo_shows_a_deprecation_issues_of_each_severity_and_badges_of_every_level(demo):
    assert set(DataIssue.objects.values_list("severity", flat=True)) == {"critical", "major", "minor"}
    deprecation = Deprecation.objects.get()
    assert (deprecation.asset.slug, deprecation.replacement.slug) == ("monthly-revenue", "settlements")
    assert deprecation.impacts.filter(asset__slug="finance-monthly", asset__kind="report").exists()

    slugs = ["executive-sales", "finance-monthly", "orders", "settlements"]
    assets = {asset.slug: asset for asset in Asset.objects.filter(slug__in=slugs)}
    badges = badges_for(assets.values())
    levels = {slug: badges[asset.pk].level for slug, asset in assets.items()}
    assert levels == {
        # A critical issue upstream.
        "executive-sales": TrustLevel.DO_NOT_USE,
        # Built on the deprecated ERP export.
        "finance-monthly": TrustLevel.CAUTION,
        # Certified, reviewed, and its source table was just probed fresh.
        "orders": TrustLevel.TRUSTED,
        # Certified and reviewed, but its HTTP source has never answered.
        "settlements": TrustLevel.UNKNOWN,
    }
