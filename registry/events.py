"""The registry's domain events, sent by the functions that write a model's card and versions (``registry.services``
and the model methods they call), so the registry never imports the apps that listen (trust's stored badges)."""

from django.dispatch import Signal

# model_ids: what these models' cards say changed (card text, facts, versions and their stages, metrics,
# training data, assumptions, users, developers). Ids are the models' asset ids.
card_changed = Signal()


def send_card_changed(*model_ids):
    card_changed.send(sender="registry", model_ids=list(model_ids))


# version_id, promotion_id: a version went into use through an approved promotion (sent inside the approval's
# transaction). The MLOps app listens to set the MLflow alias and deliver the team's signed webhooks.
version_promoted = Signal()


def send_version_promoted(version_id, promotion_id):
    version_promoted.send(sender="registry", version_id=version_id, promotion_id=promotion_id)
