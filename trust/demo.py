"""Demo trust story: a deprecated finance input with a replacement, issues of each severity, reviews, certifications.

Idempotent: each object is looked up by its natural key first, so loading twice adds nothing and sends no second
round of notifications.
"""

from datetime import time, timedelta

from django.utils import timezone

from catalog.choices import AssetKind, Lifecycle
from catalog.models import Asset, Watch
from trust.choices import ChangeRequestStatus, DeprecationState, IssueCategory, IssueStatus
from trust.models import (
    BadgeLink,
    Certification,
    ChangeRequest,
    DataIssue,
    Dependency,
    Deprecation,
    RequirementsReview,
    Review,
)

# asset key: (reporter, severity, category, title, description, status the owner moved it to, by whom)
ISSUES = {
    "daily-sales": ("erin", "critical", IssueCategory.MISSING_DATA, "Yesterday's web orders are missing",
                    "Daily sales for the web shop shows 0 orders yesterday; the stores look normal.", None, None),
    "customer-features": ("bob", "minor", IssueCategory.WRONG_VALUES, "orders_90d counts cancelled orders",
                          "Customers with only cancelled orders get orders_90d > 0.", IssueStatus.ACKNOWLEDGED,
                          "carol"),
    "replenishment": ("erin", "major", IssueCategory.WRONG_VALUES, "Two stores show last week's stock",
                      "Lyon and Nantes show the stock of last Monday; the other stores are current.",
                      IssueStatus.ACKNOWLEDGED, "bob"),
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

# Reviewed on schedule by their owners (issue 15: what nobody reviews reads "not assessed"). Left out on purpose:
# the sources, the web and marketing corner, and model versions, which nobody vouches for yet.
NOT_REVIEWED_KINDS = ("source", "model_version")
NOT_REVIEWED = {"page-views", "sessions", "search-queries", "cart-events", "campaigns", "campaign-responses",
                "web-sessionizer", "web-funnel"}  # fmt: skip


def load(teams, users, assets):
    models = {asset.slug: asset for asset in Asset.objects.filter(kind=AssetKind.MODEL).select_related("owner")}
    assets = {**models, **assets}
    for key, conditions in DEPRECATION_CONDITIONS.items():
        assets[key].deprecation_conditions = conditions
        assets[key].save(update_fields=["deprecation_conditions"])
    _review_and_certify(assets)
    _report_issues(users, assets)
    _deprecate_revenue(users, assets)
    _dependencies_and_requests(teams, users, assets)
    Watch.objects.get_or_create(user=users["erin"], asset=assets["executive-sales"])
    Watch.objects.get_or_create(user=users["bob"], asset=assets["monthly-revenue"])
    if not BadgeLink.objects.filter(asset=assets["executive-sales"]).exists():
        BadgeLink.rotate(assets["executive-sales"], by=users["bob"])


def _review_and_certify(assets):
    today = timezone.localdate()
    for key, asset in assets.items():
        if asset.kind in NOT_REVIEWED_KINDS or key in NOT_REVIEWED or key in CERTIFIED or asset.owner is None:
            continue
        if not Review.objects.filter(asset=asset).exists():
            Review.mark_reviewed(asset, by=asset.owner, comment="Checked against its users' needs.", interval_days=90)
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


def _dependencies_and_requests(teams, users, assets):
    """The consumers' side (issue 15): the executive dashboard declares what it reads of Orders (acknowledged),
    erin depends on Customers (still waiting for alice); requests for changes in each state; a requirements review
    scheduled for every report and model."""
    orders, dashboard = assets["orders"], assets["executive-sales"]
    if not Dependency.objects.filter(dataset=orders, consumer_asset=dashboard).exists():
        dependency = Dependency.declare(
            orders, by=users["bob"], consumer=dashboard, columns=["ordered_at", "store_id", "amount_eur"],
            needed_by=time(7), purpose="Yesterday's sales by store, read at 07:00 for the leadership meeting.",
        )  # fmt: skip
        dependency.acknowledge(by=users["alice"])
    if not Dependency.objects.filter(dataset=assets["customers"], consumer_user=users["erin"]).exists():
        Dependency.declare(
            assets["customers"], by=users["erin"], consumer=users["erin"], purpose="Monthly customer counts."
        )
    requests = [
        (dashboard, "erin", "Add margin by region", "A margin column next to revenue, per region.",
         "The pricing review needs margin, not only revenue.", [ChangeRequestStatus.ACCEPTED]),
        (dashboard, "erin", "Show week-on-week change", "A week-on-week delta on each store row.",
         "Store managers ask for it every Monday.", []),
        (assets["churn-predictor"], "bob", "Score B2B customers too", "Include business accounts in the scores.",
         "Key-account managers want churn risk for their accounts.",
         [ChangeRequestStatus.ACCEPTED, ChangeRequestStatus.IN_PROGRESS]),
    ]  # fmt: skip
    for asset, requester, title, wanted, why, moves in requests:
        if ChangeRequest.objects.filter(asset=asset, title=title).exists():
            continue
        change = ChangeRequest.propose(asset, by=users[requester], title=title, wanted=wanted, why=why)
        for status in moves:
            change.transition(status, by=asset.owner, comment="Planned for the next release.")
    for asset in assets.values():
        scheduled = RequirementsReview.objects.filter(asset=asset).exists()
        if asset.kind in (AssetKind.REPORT, AssetKind.MODEL) and asset.owner is not None and not scheduled:
            RequirementsReview.record(asset, by=asset.owner, comment="Asked its users.", interval_days=90)
