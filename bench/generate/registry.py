"""The registry: models with their versions and metrics, and model cards with what their completeness reads."""

import uuid
from datetime import timedelta

import numpy as np

from bench.generate.catalog import copy_assets
from bench.generate.shape import DOMAIN_SIZE, DOMAINS, ENTITIES, team_of_domain
from catalog.choices import AssetKind
from registry.choices import Stage
from registry.models import Assumption, Metric, ModelCard, ModelVersion, RegisteredModel

ALGORITHMS = ["gradient boosting", "random forest", "logistic regression", "xgboost", "lightgbm", "neural network"]


def write_models(gen):
    rng = gen.rng("models")
    count, versions, domains = (
        gen.counts["models"],
        gen.counts["versions"],
        max(1, gen.counts["datasets"] // DOMAIN_SIZE),
    )
    thing = rng.integers(0, len(ENTITIES), count)
    goals = ["churn", "fraud", "demand", "propensity", "ltv", "risk", "forecast", "ranking"]
    goal = rng.integers(0, len(goals), count)
    names = [
        f"{DOMAINS[(n % domains) % len(DOMAINS)]}-{ENTITIES[thing[n]]}-{goals[goal[n]]}-{n + 1}" for n in range(count)
    ]
    descriptions = [f"Predicts {goals[goal[n]]} from {ENTITIES[thing[n]]}." for n in range(count)]
    first = copy_assets(
        gen, rng, AssetKind.MODEL, "models", names, names, descriptions, lambda n: team_of_domain(gen, n % domains)
    )
    gen.copy(
        RegisteredModel,
        ["asset_id", "summary", "goal", "users_description", "mlflow_name"],
        ((first + n, descriptions[n], f"Reduce {goals[goal[n]]} losses.", "Internal teams.", names[n])
         for n in range(count)),
    )  # fmt: skip
    # Every model has one version; the rest are spread at random, so some models have many.
    per_model = 1 + np.bincount(rng.integers(0, count, versions - count), minlength=count)
    owner_team = [team_of_domain(gen, n % domains) for n in range(count)]
    model_of = np.repeat(np.arange(count), per_model)
    number = np.concatenate([np.arange(1, k + 1) for k in per_model])
    latest = number == per_model[model_of]
    in_use = rng.random(count) < 0.6
    v_names = [f"{names[m]} v{k}" for m, k in zip(model_of.tolist(), number.tolist(), strict=True)]
    v_slugs = [f"{names[m]}-v{k}" for m, k in zip(model_of.tolist(), number.tolist(), strict=True)]
    v_first = copy_assets(
        gen, rng, AssetKind.MODEL_VERSION, "versions", v_names, v_slugs, ["" for _ in v_names],
        lambda n: owner_team[model_of[n]],
    )  # fmt: skip
    algorithm = rng.integers(0, len(ALGORITHMS), versions)
    created = gen.when(rng, versions, 365)
    scores = rng.uniform(0.6, 0.95, (versions, 2))

    def stage(n):
        if latest[n]:
            return Stage.PRODUCTION if in_use[model_of[n]] else Stage.STAGING
        return Stage.ARCHIVED if number[n] < per_model[model_of[n]] - 1 else Stage.DEVELOPMENT

    def rows():
        for n in range(versions):
            passed = bool(scores[n, 0] > 0.7)
            yield (
                v_first + n, first + model_of[n], int(number[n]), stage(n), ALGORITHMS[algorithm[n]],
                {"max_depth": 6, "learning_rate": 0.1}, ["amount", "country", "channel"], "", 10_000_000,
                uuid.UUID(int=n + 1).hex, f"models:/{names[model_of[n]]}/{number[n]}", passed,
                {"auc": {"threshold": 0.7, "value": round(float(scores[n, 0]), 4), "passed": passed}},
                None, created[n],
            )  # fmt: skip

    gen.copy(
        ModelVersion,
        ["asset_id", "model_id", "version", "stage", "algorithm", "hyperparameters", "features", "snapshot_url",
         "size_bytes", "mlflow_run_id", "model_uri", "passed_thresholds", "threshold_results", "created_by_id",
         "created_at"],
        rows(),
    )  # fmt: skip
    gen.copy(
        Metric,
        ["version_id", "name", "value", "split"],
        (
            (v_first + n, metric, float(scores[n, column]), "test")
            for n in range(versions)
            for column, metric in enumerate(["auc", "f1"])
        ),
    )


# One text per card section; {domain}, {entity}, {goal} and {algorithm} come from the model.
CARD_TEXTS = {
    "description": "Predicts {goal} for {domain} from {entity} data; a {algorithm} model retrained monthly.",
    "intended_uses": "Ranking {entity} for the {domain} team's weekly {goal} review.",
    "out_of_scope_uses": "Decisions about one person without a human review; any use outside {domain}.",
    "limitations": "Less accurate for {entity} with under 30 days of history, and after price changes.",
    "fairness_considerations": "Country and age could stand in for protected groups; neither is a feature.",
    "fairness_validation": "Error rates compared across countries on the test month: within 2 points.",
    "validation": "Trained on 12 months, tested on the next one; reviewed by a second data scientist.",
    "comments": "Recalibrating every month helped more than adding features.",
    "introduction": "The {domain} team wanted to see {goal} coming earlier.",
    "problem": "{goal} costs {domain} money every month; acting a week earlier halves the loss.",
    "data": "Two years of {entity} from the {domain} marts, one row per {entity} and month.",
    "data_preparation": "Duplicates removed, missing amounts set to the median, categories one-hot encoded.",
    "approach": "{algorithm} on 40 features, tuned by cross-validation.",
    "results": "AUC 0.81 on the test month, against 0.61 for the rule used before.",
    "recommendations": "Use the score to rank, not as a probability; review the top tenth every week.",
}
ASSUMPTIONS = [
    "Prices do not change by more than 10 % in a month.",
    "The {entity} table is complete by 06:00 every day.",
    "Customer behaviour is the same on weekdays and at weekends.",
]
ASSUMPTION_VALID_DAYS = 180


def write_cards(gen):
    """A model card per registered model, filled to varied completeness, with what else the card's completeness
    reads: developers from the owning team, assumptions (some due for verification) and the current versions'
    training data (the lineage edges into each version)."""
    rng = gen.rng("cards")
    teams, users = gen.counts["teams"], gen.counts["users"]
    gen.cursor.execute(
        "SELECT m.asset_id, a.name, a.team_id, a.owner_id, "
        "(SELECT v.algorithm FROM registry_modelversion v WHERE v.model_id = m.asset_id ORDER BY v.version DESC "
        "LIMIT 1) FROM registry_registeredmodel m JOIN catalog_asset a ON a.id = m.asset_id ORDER BY m.asset_id"
    )
    models = gen.cursor.fetchall()
    count = len(models)
    # How diligent each owner is: the chance that each section of the card is written.
    diligence = rng.beta(2.5, 1.2, count)
    written = rng.random((count, len(ModelCard.TEXT_FIELDS))) < diligence[:, None]
    edited = gen.when(rng, count, 180)
    card_rows, developer_rows, assumption_rows = [], [], []
    developers = rng.choice(4, count, p=[0.3, 0.3, 0.25, 0.15])
    assumptions = rng.choice(3, count, p=[0.5, 0.3, 0.2])
    verified_days = rng.integers(0, 2 * ASSUMPTION_VALID_DAYS, (count, 2))
    verified = rng.random((count, 2)) < 0.8
    for n, (model_id, name, team_id, owner_id, algorithm) in enumerate(models):
        domain, entity, goal = name.split("-")[:3]
        words = {"domain": domain, "entity": entity, "goal": goal, "algorithm": algorithm or "gradient boosting"}
        texts = [CARD_TEXTS[f].format(**words) if written[n, k] else "" for k, f in enumerate(ModelCard.TEXT_FIELDS)]
        card_rows.append((model_id, *texts, 0, owner_id, edited[n]))
        # User u's home team is u % teams (see ``people.write_users``): developers are members of the owning team.
        home = team_id - gen.ids["teams"]
        members = (users - home + teams - 1) // teams
        picked = rng.choice(members, min(members, developers[n]), replace=False) if members else []
        developer_rows += [(model_id, gen.ids["users"] + home + teams * int(k)) for k in sorted(picked)]
        for k in range(assumptions[n]):
            on = (gen.epoch - timedelta(days=int(verified_days[n, k]))).date() if verified[n, k] else None
            assumption_rows.append(
                (model_id, ASSUMPTIONS[(n + k) % len(ASSUMPTIONS)].format(**words), on, owner_id if on else None,
                 ASSUMPTION_VALID_DAYS, edited[n])
            )  # fmt: skip
    gen.copy(ModelCard, ["model_id", *ModelCard.TEXT_FIELDS, "revision", "updated_by_id", "updated_at"], card_rows)
    gen.copy(RegisteredModel.developers.through, ["registeredmodel_id", "user_id"], developer_rows)
    gen.copy(
        Assumption,
        ["model_id", "statement", "verified_on", "verified_by_id", "valid_for_days", "created_at"],
        assumption_rows,
    )
    training = ModelVersion.training_datasets.through._meta.db_table
    gen.execute(
        training,
        f"INSERT INTO {training} (modelversion_id, dataset_id) SELECT e.downstream_id, e.upstream_id "
        "FROM catalog_lineageedge e JOIN registry_modelversion v ON v.asset_id = e.downstream_id "
        "JOIN catalog_dataset d ON d.asset_id = e.upstream_id ORDER BY 1, 2",
    )
