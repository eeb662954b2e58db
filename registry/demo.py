"""Demo models: four registered models with versions at every stage, linked by lineage to the demo catalog."""

from catalog.choices import AssetKind, LineageOrigin
from catalog.models import Asset, LineageEdge
from registry.choices import Stage
from registry.models import Metric, ModelVersion, RegisteredModel

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
            if output and stage == Stage.PRODUCTION:
                LineageEdge.objects.get_or_create(
                    upstream=version_asset, downstream=datasets[output], defaults={"origin": LineageOrigin.REGISTRY}
                )
