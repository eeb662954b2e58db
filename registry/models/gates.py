"""Quality gates of a model: metric thresholds per split, a fairness limit, and recorded waivers.

The gate is part of promotion: ``ModelVersion.promotion_blockers`` adds every unmet, unwaived gate, so a request and
an approval are refused naming which threshold or limit is not met. The measured values are the version's
``Metric`` rows, which training writes (the fairness gap as ``max_group_gap``).
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from registry.models.models import RegisteredModel

FAIRNESS_METRIC = "max_group_gap"
FAIRNESS_KEY = "fairness"


class Direction(models.TextChoices):
    AT_LEAST = "min", "at least"
    AT_MOST = "max", "at most"


class QualityThreshold(models.Model):
    """A metric a version must reach on a split before it goes into use (``roc_auc`` on ``test`` at least 0.75)."""

    model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="quality_thresholds")
    metric = models.CharField(max_length=100)
    split = models.CharField(max_length=100, default="test")
    direction = models.CharField(max_length=3, choices=Direction.choices, default=Direction.AT_LEAST)
    value = models.FloatField()

    class Meta:
        ordering = ["metric", "split"]
        constraints = [
            models.UniqueConstraint(fields=["model", "metric", "split"], name="qualitythreshold_unique_metric_split")
        ]

    def __str__(self):
        return f"{self.metric} on {self.split} {self.get_direction_display()} {self.value:g}"

    @property
    def key(self):
        return f"{self.metric}/{self.split}"

    def met_by(self, value):
        if value is None:
            return False
        return value >= self.value if self.direction == Direction.AT_LEAST else value <= self.value


class FairnessLimit(models.Model):
    """The largest gap allowed between groups of a sensitive column, on any metric (training measures it)."""

    model = models.OneToOneField(RegisteredModel, on_delete=models.CASCADE, related_name="fairness_limit")
    sensitive_column = models.CharField(max_length=200)
    max_gap = models.FloatField(help_text="The largest metric gap allowed between two groups, e.g. 0.1.")

    def __str__(self):
        return f"gap between {self.sensitive_column} groups at most {self.max_gap:g}"

    def clean(self):
        if self.max_gap is not None and self.max_gap < 0:
            raise ValidationError({"max_gap": "A gap is never negative; give 0 or more."})


class QualityWaiver(models.Model):
    """An approver let one unmet gate of one version pass, and said why. Never edited; the reason is required."""

    version = models.ForeignKey("registry.ModelVersion", on_delete=models.CASCADE, related_name="quality_waivers")
    gate = models.CharField(max_length=210, help_text='"metric/split", or "fairness".')
    reason = models.TextField()
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [models.UniqueConstraint(fields=["version", "gate"], name="qualitywaiver_unique_gate")]

    def __str__(self):
        return f"{self.version}: {self.gate} waived"


def gate_results(version):
    """Each gate of the version's model beside the version's measured value:
    ``[{key, label, limit, value, passed, waiver}]``, thresholds first, the fairness limit last."""
    metrics = {(metric.name, metric.split): metric.value for metric in version.metrics.all()}
    waivers = {waiver.gate: waiver for waiver in version.quality_waivers.all()}
    results = []
    for threshold in version.model.quality_thresholds.all():
        value = metrics.get((threshold.metric, threshold.split))
        results.append({
            "key": threshold.key,
            "label": f"{threshold.metric} on {threshold.split}",
            "limit": f"{threshold.get_direction_display()} {threshold.value:g}",
            "value": value,
            "passed": threshold.met_by(value),
            "waiver": waivers.get(threshold.key),
        })  # fmt: skip
    try:
        fairness = version.model.fairness_limit
    except FairnessLimit.DoesNotExist:
        fairness = None
    if fairness is not None:
        gaps = [value for (name, _split), value in metrics.items() if name == FAIRNESS_METRIC]
        value = metrics.get((FAIRNESS_METRIC, "test"), gaps[0] if gaps else None)
        results.append({
            "key": FAIRNESS_KEY,
            "label": f"fairness: largest gap between {fairness.sensitive_column} groups",
            "limit": f"at most {fairness.max_gap:g}",
            "value": value,
            "passed": value is not None and value <= fairness.max_gap,
            "waiver": waivers.get(FAIRNESS_KEY),
        })  # fmt: skip
    return results


def gate_blockers(version):
    """The unmet, unwaived gates in plain words, for ``promotion_blockers``."""
    blockers = []
    for result in gate_results(version):
        if result["passed"] or result["waiver"] is not None:
            continue
        measured = "not measured" if result["value"] is None else f"{result['value']:.4g}"
        blockers.append(f"quality gate: {result['label']} is {measured}, needs {result['limit']}")
    return blockers
