"""Demo trust story: a deprecated finance input with a replacement, issues of each severity, reviews, certifications.

Idempotent: each object is looked up by its natural key first, so loading twice adds nothing and sends no second
round of notifications.
"""

from datetime import timedelta

from django.utils import timezone

from catalog.choices import Lifecycle
from catalog.models import Watch
from trust.choices import DeprecationState, IssueCategory, IssueStatus
from trust.models import BadgeLink, Certification, DataIssue, Deprecation, Review

# asset key: (reporter, severity, category, title, description, status the owner moved it to, by whom)
ISSUES = {
    "daily-sales": ("erin", "critical", IssueCategory.MISSING_DATA, "Yesterday's web orders are missing",
                    "Daily sales for the web shop shows 0 orders yesterday; the stores look normal.", None, None),
    "customer-features": ("bob", "major", IssueCategory.WRONG_VALUES, "orders_90d counts cancelled orders",
                          "Customers with only cancelled orders get orders_90d > 0.", IssueStatus.ACKNOWLEDGED,
                          "carol"),
    "products": ("erin", "minor", IssueCategory.WRONG_VALUES, "Two products share the name “Desk lamp”",
                 "Product 1043 and 2210 are both called Desk lamp; the category differs.", None, None),
}  # fmt: skip

DEPRECATION_CONDITIONS = {
    "orders": "When the order model v2 covers both store and web orders, or if the ERP stops sending exports.",
    "monthly-revenue": "When Finance reads revenue from the payment provider's settlements.",
}

# Documented, reviewed and certified by their owners: only freshness (checked by monitoring) is left to decide.
# Orders and order lines come out Trusted; settlements' HTTP source cannot be reached, so its badge is Unknown.
CERTIFIED = ["orders", "order-lines", "customers", "settlements"]


def load(teams, users, assets):
    for key, conditions in DEPRECATION_CONDITIONS.items():
        assets[key].deprecation_conditions = conditions
        assets[key].save(update_fields=["deprecation_conditions"])
    _review_and_certify(assets)
    _report_issues(users, assets)
    _deprecate_revenue(users, assets)
    Watch.objects.get_or_create(user=users["erin"], asset=assets["executive-sales"])
    Watch.objects.get_or_create(user=users["bob"], asset=assets["monthly-revenue"])
    if not BadgeLink.objects.filter(asset=assets["executive-sales"]).exists():
        BadgeLink.rotate(assets["executive-sales"], by=users["bob"])


def _review_and_certify(assets):
    today = timezone.localdate()
    for key in CERTIFIED:
        asset = assets[key]
        if not Review.objects.filter(asset=asset).exists():
            Review.mark_reviewed(asset, by=asset.owner, comment="Row counts match the source; documentation checked.")
        if not Certification.objects.filter(asset=asset, expires_on__gt=today).exists():
            Certification.certify(
                asset, by=asset.owner, expires_on=today + timedelta(days=180), statement="Reconciled with Finance."
            )


def _report_issues(users, assets):
    for key, (reporter, severity, category, title, description, status, mover) in ISSUES.items():
        if DataIssue.objects.filter(asset=assets[key], title=title).exists():
            continue
        issue = DataIssue.report(
            assets[key], by=users[reporter], title=title, description=description, category=category,
            severity=severity,
        )  # fmt: skip
        if status:
            issue.transition(status, by=users[mover], comment="Confirmed; fixing it in this week's release.")


def _deprecate_revenue(users, assets):
    """Monthly revenue is being replaced by settlements; margin, which reads it, has already acknowledged."""
    revenue = assets["monthly-revenue"]
    if Deprecation.objects.filter(asset=revenue).exists() or revenue.lifecycle != Lifecycle.ACTIVE:
        return
    deprecation = Deprecation.propose(
        revenue,
        by=users["dave"],
        reason="The ERP export arrives days late and misses refunds. Revenue now comes from the payment "
        "provider's settlements, which arrive daily and match the bank.",
        sunset_date=timezone.localdate() + timedelta(days=45),
        replacement=assets["settlements"],
    )
    impact = deprecation.impacts.filter(asset=assets["margin"]).first()
    if impact and deprecation.state == DeprecationState.ANNOUNCED:
        impact.acknowledge(by=users["dave"], note="Margin now joins settlements.")
