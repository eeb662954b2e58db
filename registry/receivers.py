"""What the registry does when the catalog changes under it."""

from registry.events import send_card_changed
from registry.models import ModelVersion


def assets_removed(sender, asset_ids, **kwargs):
    """A version's asset deleted on its own takes the version with it: its model's card loses it."""
    models = set(ModelVersion.objects.filter(asset_id__in=asset_ids).values_list("model_id", flat=True))
    models -= set(asset_ids)  # a model going too needs nothing recomputed
    if models:
        send_card_changed(*models)
