"""Demo models: four registered models with versions at every stage, linked by lineage to the demo catalog, with
cards from nearly empty to complete and one promotion waiting for approval."""

import logging
from datetime import timedelta

from django.utils import timezone

from catalog.choices import AssetKind, LineageOrigin
from catalog.models import Asset, LineageEdge
from core.choices import JobKind, JobState
from core.jobs import JobFailed
from core.models import JobRun
from registry import services
from registry.choices import ChecklistItem, ModelUserKind, PromotionState, Stage
from registry.models import Assumption, Direction, Metric, ModelCard, ModelUser, ModelVersion, RegisteredModel
from registry.training import train

logger = logging.getLogger(__name__)

# key: (name, team, owner, summary, goal, training dataset, output dataset, [(stage, algorithm, metrics)])
MODELS = {
    "churn-predictor": (
        "Churn predictor", "marketing-science", "carol",
        "Probability that a customer places no order in the next 90 days.",
        "Lets the CRM team target retention offers at customers likely to leave, instead of everyone.",
        "customer-churn", "churn-scores",
        [(Stage.ARCHIVED, "Logistic regression", {"roc_auc": 0.71, "f1": 0.52}),
         (Stage.PRODUCTION, "Gradient boosting", {"roc_auc": 0.79, "f1": 0.61}),
         (Stage.STAGING, "Gradient boosting", {"roc_auc": 0.81, "f1": 0.63})],
    ),
    "lifetime-value": (
        "Customer lifetime value", "marketing-science", "frank",
        "Predicted revenue per customer over the next 12 months.",
        "Sets how much marketing may spend to keep or win a customer.",
        "customer-features", "ltv-scores",
        [(Stage.PRODUCTION, "Random forest regressor", {"mae": 41.2, "r2": 0.58}),
         (Stage.DEVELOPMENT, "Gradient boosting regressor", {"mae": 38.9, "r2": 0.62})],
    ),
    "demand-forecaster": (
        "Weekly demand forecaster", "sales-analytics", "bob",
        "Units per product and store, eight weeks ahead.",
        "Feeds store replenishment so shelves are full without overstock.",
        "demand-history", "demand-forecast",
        [(Stage.PRODUCTION, "Gradient boosting regressor", {"mae": 3.4, "rmse": 5.1})],
    ),
    "campaign-uplift": (
        "Campaign uplift", "marketing-science", "frank",
        "Which customers respond to a campaign because of it.",
        "Avoids paying for offers to customers who would have bought anyway.",
        "campaign-responses", None,
        [(Stage.DEVELOPMENT, "Two-model logistic regression", {"qini": 0.08})],
    ),
}  # fmt: skip


def load(teams, users, datasets):
    for key, (name, team, owner, summary, goal, training, output, versions) in MODELS.items():
        asset, _ = Asset.objects.update_or_create(
            kind=AssetKind.MODEL,
            slug=key,
            defaults={"name": name, "description": summary, "team": teams[team], "owner": users[owner]},
        )
        model, _ = RegisteredModel.objects.update_or_create(
            asset=asset, defaults={"summary": summary, "goal": goal, "mlflow_name": key}
        )
        model.developers.set([users[owner]])
        for number, (stage, algorithm, metrics) in enumerate(versions, start=1):
            version_asset, _ = Asset.objects.update_or_create(
                kind=AssetKind.MODEL_VERSION,
                slug=f"{key}-v{number}",
                defaults={"name": f"{name} v{number}", "team": teams[team], "owner": users[owner]},
            )
            version, _ = ModelVersion.objects.update_or_create(
                asset=version_asset,
                defaults={"model": model, "version": number, "stage": stage, "algorithm": algorithm,
                          "created_by": users[owner]},
            )  # fmt: skip
            for metric, value in metrics.items():
                Metric.objects.update_or_create(version=version, name=metric, split="test", defaults={"value": value})
            LineageEdge.objects.get_or_create(
                upstream=datasets[training], downstream=version_asset, defaults={"origin": LineageOrigin.REGISTRY}
            )
            version.training_datasets.set([datasets[training].dataset])
            if output and stage == Stage.PRODUCTION:
                LineageEdge.objects.get_or_create(
                    upstream=version_asset, downstream=datasets[output], defaults={"origin": LineageOrigin.REGISTRY}
                )
    _load_cards(users)


CHURN_CARD = {
    "description": "Gradient boosting over 24 months of orders and support contacts (1.2 M customers, refreshed "
    "weekly). Features: recency, frequency, basket value, complaints, tenure.",
    "intended_uses": "Ranking customers for **retention offers** by the CRM team, weekly.",
    "out_of_scope_uses": "Credit decisions, pricing, or any decision about an individual without human review.",
    "limitations": "Weak on customers with fewer than three orders; B2B accounts are excluded.",
    "fairness_considerations": "Age and region are not features; region correlates with store density.",
    "fairness_validation": "Recall by age band and region within 3 points of the overall recall (report linked).",
    "validation": "Out-of-time validation on the last quarter; reviewed by the analytics guild on 3 March.",
    "comments": "Support contacts added 6 points of AUC; order-level features did not.",
    "introduction": "The CRM team sends retention offers; this model decides who gets them.",
    "problem": "Offers went to everyone, costing margin on customers who were staying anyway.",
    "data": "`customer-churn`: one row per customer and month, 2023 to today.",
    "data_preparation": "Customers with under 30 days of history removed; monthly aggregates; target = no order in "
    "90 days.",
    "approach": "Gradient boosting (LightGBM), 5-fold cross-validation, tuned on AUC.",
    "results": "AUC 0.81 on the holdout, F1 0.63 at the chosen threshold.",
    "recommendations": "Target the top two deciles; re-train quarterly; monitor recall on new customers.",
}
# How far each demo card is filled: the churn card is complete, the uplift card nearly empty.
CARD_FIELDS = {
    "churn-predictor": list(CHURN_CARD),
    "lifetime-value": list(CHURN_CARD)[:11],
    "demand-forecaster": ["description", "intended_uses", "limitations", "results"],
    "campaign-uplift": ["introduction"],
}
# The complete card has its quality gates too (the meter counts them, issue 17); the others have none yet.
DEMO_GATES = {"churn-predictor": [("roc_auc", "test", Direction.AT_LEAST, 0.7)]}
DEMO_ASSUMPTIONS = {
    "churn-predictor": [("Customers who stop ordering for 90 days rarely come back.", 20)],
    "lifetime-value": [("Prices stay within 5% of last year's.", 400)],  # verified too long ago: expired
    "demand-forecaster": [("Store openings are announced eight weeks ahead.", 30)],
}


def _load_cards(users):
    today = timezone.localdate()
    for key, fields in CARD_FIELDS.items():
        model = RegisteredModel.objects.select_related("asset__owner").get(asset__slug=key)
        card, _ = ModelCard.objects.get_or_create(model=model)
        if card.revision == 0:
            # One revision, by the owner, so the history page has something to show; never repeated.
            card.edit({name: CHURN_CARD[name] for name in fields}, model.asset.owner, base_revision=0)
        if key in DEMO_GATES and not model.quality_thresholds.exists():
            services.set_quality_gates(model, DEMO_GATES[key])
        for statement, age in DEMO_ASSUMPTIONS.get(key, []):
            Assumption.objects.get_or_create(
                model=model,
                statement=statement,
                defaults={"verified_on": today - timedelta(days=age), "verified_by": model.asset.owner},
            )
    churn = RegisteredModel.objects.get(asset__slug="churn-predictor")
    churn.users_description = "Internal: the CRM team. External: the loyalty agency running the offers."
    churn.save(update_fields=["users_description"])
    ModelUser.objects.get_or_create(
        model=churn, name="CRM team", defaults={"kind": ModelUserKind.INTERNAL, "needs": "Weekly scores by Monday."}
    )
    churn.approvers.set([users["frank"], users["admin"]])
    # The candidate in validation has its checklist done and waits for approval.
    candidate = churn.versions.get(stage=Stage.STAGING)
    for item in ChecklistItem:
        candidate.checklist_ticks.get_or_create(
            item=item, defaults={"ticked_by": users["carol"], "link": "https://git.example.com/marketing/churn"}
        )
    if not candidate.promotion_requests.filter(state=PromotionState.PENDING).exists():
        services.request_promotion(
            churn, candidate, users["carol"], note="Better recall on new customers; review done."
        )


TRAINING = {
    "model": "churn-predictor",
    "dataset": "customer-churn",
    "target": "churned",
    "features": ["tenure_months", "orders_90d", "revenue_90d", "days_since_last_order", "support_tickets", "segment"],
    "algorithm": "random_forest_classifier",
    "hyperparameters": {"n_estimators": 120, "max_depth": 6},
    "test_size": 0.25,
    "seed": 7,
    "thresholds": {"roc_auc": 0.7, "max_group_gap": 0.25},
    "sensitive_column": "segment",
}


def load_training(users):
    """A real training run of the churn model, the way a worker does it (in this process, without a broker)."""
    model = RegisteredModel.objects.select_related("asset").get(asset__slug=TRAINING["model"])
    if JobRun.objects.filter(kind=JobKind.TRAINING, asset=model.asset).exists():
        return
    run = JobRun.objects.create(kind=JobKind.TRAINING, asset=model.asset, requested_by=users["carol"], params=TRAINING)
    run.claim(task_id="demo")
    try:
        result = train(run)
    except JobFailed as exc:
        logger.warning("The demo training run failed: %s", exc)
        run.finish(JobState.FAILED, error=str(exc))
        return
    run.finish(JobState.SUCCEEDED, result=result)
