from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from catalog.models import Asset
from registry.choices import Stage


class RegisteredModel(models.Model):
    """A model as the business knows it ("churn predictor"), across all its versions."""

    asset = models.OneToOneField(Asset, primary_key=True, on_delete=models.CASCADE, related_name="registered_model")
    summary = models.CharField(max_length=300, blank=True)
    goal = models.TextField(blank=True, help_text="The problem this model solves.")
    developers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="developed_models")
    users_description = models.TextField(
        "users and their needs", blank=True, help_text="Who uses the model (internal or external) and what they need."
    )
    mlflow_name = models.CharField(max_length=200, blank=True, db_index=True)

    def __str__(self):
        return self.asset.name

    def get_absolute_url(self):
        return reverse("registry:model_detail", kwargs={"slug": self.asset.slug})


class ModelVersion(models.Model):
    """One trained artifact of a registered model, moving through stages."""

    asset = models.OneToOneField(Asset, primary_key=True, on_delete=models.CASCADE, related_name="model_version")
    model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.DEVELOPMENT, db_index=True)
    algorithm = models.CharField(max_length=200, blank=True)
    hyperparameters = models.JSONField(default=dict, blank=True)
    features = models.JSONField(default=list, blank=True)
    snapshot_url = models.URLField(blank=True)
    size_bytes = models.BigIntegerField(null=True, blank=True)
    mlflow_run_id = models.CharField(max_length=64, blank=True)
    model_uri = models.CharField(max_length=500, blank=True)
    passed_thresholds = models.BooleanField(
        null=True, blank=True, help_text="Whether the metrics met the thresholds set for the training run."
    )
    threshold_results = models.JSONField(
        default=dict, blank=True, help_text='{"metric": {"threshold": 0.8, "value": 0.83, "passed": true}}'
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["model", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["model", "version"], name="version_unique_number_per_model"),
            # At most one version of a model is in use at a time; the database enforces it too.
            models.UniqueConstraint(
                fields=["model"], condition=Q(stage=Stage.PRODUCTION), name="version_one_production_per_model"
            ),
        ]

    def __str__(self):
        return f"{self.model} v{self.version}"


class Metric(models.Model):
    """A diagnostic metric of a version, and the dataset or split it was computed on."""

    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="metrics")
    name = models.CharField(max_length=100)
    value = models.FloatField()
    split = models.CharField(max_length=100, blank=True, help_text="e.g. 'test', or the evaluation dataset's name.")

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["version", "name", "split"], name="metric_unique_per_split")]

    def __str__(self):
        return f"{self.name}={self.value:g}"
