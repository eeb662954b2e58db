"""Registry fragments of the model page."""

from django import template

from core.choices import JobKind
from core.models import JobRun

register = template.Library()


@register.inclusion_tag("registry/partials/training_entry.html", takes_context=True)
def training_entry(context, model):
    """The model page's "Train a new version" entry point with the latest training run's state; ``can_edit`` is
    the view's."""
    latest = JobRun.objects.filter(kind=JobKind.TRAINING, asset_id=model.pk).order_by("-created_at", "-pk").first()
    return {"model": model, "latest": latest, "can_edit": context["can_edit"]}
