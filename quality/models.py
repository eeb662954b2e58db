"""Data quality checks on datasets, the result of each run, freshness observations, and what a dbt import knows.

A check belongs to a dataset (and optionally one of its columns); it is identified within the dataset by its
``key`` (a dbt test's name, which is also the assertion name dbt-ol reports, or a Great Expectations expectation),
so the same test arriving through ``import_dbt`` and through ``dbt-ol test`` is one check. ``last_status`` is the
latest result, kept by ``quality.results.record_results``, the only writer of results.
"""

from django.db import models
from django.db.models import Q
from django.urls import reverse

from catalog.models import Asset
from quality.choices import FAILING, CheckOrigin, CheckStatus, FreshnessStatus, Severity


class QualityCheck(models.Model):
    """One data quality check on a dataset (a dbt test, an assertion, an expectation)."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="quality_checks")
    key = models.CharField(max_length=300, help_text="The check's name in its tool, unique within the dataset.")
    name = models.CharField(max_length=300)
    column = models.CharField(max_length=200, blank=True)
    check_type = models.CharField(max_length=100, blank=True, help_text="not_null, unique, accepted_values …")
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.ERROR)
    origin = models.CharField(max_length=20, choices=CheckOrigin.choices)
    sql = models.TextField(blank=True)
    external_id = models.CharField(max_length=300, blank=True, help_text="e.g. the dbt test's unique_id.")
    # Gone from the tool that declared it (a dbt test removed from the project): kept with its history, not counted.
    gone = models.BooleanField(default=False)
    last_status = models.CharField(max_length=10, choices=CheckStatus.choices, blank=True)
    last_failures = models.BigIntegerField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["asset", "column", "name"]
        constraints = [models.UniqueConstraint(fields=["asset", "key"], name="qualitycheck_unique_key_per_asset")]
        indexes = [
            # The badge reads the failing checks of an asset and everything upstream of it.
            models.Index(
                fields=["asset"],
                condition=Q(gone=False, last_status__in=FAILING),
                name="qualitycheck_failing",
            )
        ]

    def __str__(self):
        return f"{self.name} on {self.asset}"

    def get_absolute_url(self):
        return reverse("quality:dataset", kwargs={"slug": self.asset.slug}) + f"#check-{self.pk}"

    @property
    def failing(self):
        return self.last_status in FAILING


class CheckResult(models.Model):
    """One run of a check: its status, how many rows failed, when, and how long it took."""

    quality_check = models.ForeignKey(QualityCheck, on_delete=models.CASCADE, related_name="results")
    run_key = models.CharField(max_length=200, help_text="The run it came from (dbt invocation id, OpenLineage runId).")
    status = models.CharField(max_length=10, choices=CheckStatus.choices)
    failures = models.BigIntegerField(null=True, blank=True)
    message = models.TextField(blank=True)
    executed_at = models.DateTimeField()
    execution_seconds = models.FloatField(null=True, blank=True)
    origin = models.CharField(max_length=20, choices=CheckOrigin.choices)

    class Meta:
        ordering = ["-executed_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["quality_check", "run_key"], name="checkresult_unique_run")]
        indexes = [models.Index(fields=["quality_check", "-executed_at"], name="checkresult_recent")]

    def __str__(self):
        return f"{self.quality_check.name}: {self.status} at {self.executed_at:%Y-%m-%d %H:%M}"


class FreshnessObservation(models.Model):
    """What ``dbt source freshness`` saw for a source's dataset: when it was last loaded and what dbt concluded."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="freshness_observations")
    run_key = models.CharField(max_length=200)
    status = models.CharField(max_length=20, choices=FreshnessStatus.choices)
    max_loaded_at = models.DateTimeField(null=True, blank=True)
    observed_at = models.DateTimeField()
    criteria = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-observed_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["asset", "run_key"], name="freshnessobservation_unique_run")]

    def __str__(self):
        return f"{self.asset}: {self.status} at {self.observed_at:%Y-%m-%d %H:%M}"


class DbtNode(models.Model):
    """A dbt node (model, seed, snapshot, source, exposure) as last imported, and the asset it became.

    A node missing from the next manifest is ``gone``: its asset is retired, never deleted, so its history stays.
    """

    source = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="+", help_text="The data source.")
    unique_id = models.CharField(max_length=300)
    project = models.CharField(max_length=200, blank=True, help_text="The dbt project that imported it.")
    resource_type = models.CharField(max_length=20)
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="dbt_nodes")
    gone = models.BooleanField(default=False)
    seen_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "unique_id"], name="dbtnode_unique_per_source")]

    def __str__(self):
        return self.unique_id


class DatasetMetrics(models.Model):
    """What one run measured of a dataset (OpenLineage's ``dataQualityMetrics`` input facet): its rows, bytes and
    files, and per column ``{nullCount, distinctCount, sum, count, min, max, quantiles}`` as the facet names them.
    One row per run and dataset: the time series the quality tab draws. Written by ``quality.metrics.record``."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="quality_metrics")
    run_key = models.CharField(max_length=200, help_text="The run it came from (the OpenLineage runId).")
    measured_at = models.DateTimeField()
    row_count = models.BigIntegerField(null=True, blank=True)
    bytes = models.BigIntegerField(null=True, blank=True)
    file_count = models.BigIntegerField(null=True, blank=True)
    columns = models.JSONField(default=dict, blank=True, help_text="{column: {nullCount, distinctCount, …}}")

    class Meta:
        ordering = ["-measured_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["asset", "run_key"], name="datasetmetrics_unique_run")]
        indexes = [models.Index(fields=["asset", "-measured_at"], name="datasetmetrics_recent")]

    def __str__(self):
        return f"{self.asset}: metrics at {self.measured_at:%Y-%m-%d %H:%M}"
