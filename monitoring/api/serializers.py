from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from rest_framework import serializers

from catalog.models import Asset
from monitoring.models import Alert, FreshnessCheck, FreshnessPolicy, JobRun, Notification
from monitoring.training import ALGORITHM_CHOICES, validate_request
from portal.api import full_clean_or_raise
from registry.models import RegisteredModel


class NotificationSerializer(serializers.ModelSerializer):
    asset = serializers.SlugRelatedField(slug_field="uuid", read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "url", "asset", "created_at", "read_at"]


class JobRunSerializer(serializers.ModelSerializer):
    asset = serializers.SlugRelatedField(slug_field="uuid", read_only=True)
    slug = serializers.CharField(source="asset.slug", read_only=True, default=None)
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = JobRun
        fields = [
            "uuid", "kind", "asset", "slug", "requested_by", "state", "step", "progress", "params", "result", "error",
            "log", "attempts", "created_at", "started_at", "finished_at", "heartbeat_at", "url",
        ]  # fmt: skip
        read_only_fields = fields


class TrainingRunSerializer(serializers.Serializer):
    """Starts a training run; the answer is the queued job run. Checked by ``training.validate_request``."""

    model = serializers.CharField(help_text="Slug of the registered model to train a new version of.")
    dataset = serializers.CharField(help_text="Slug of a CSV or Parquet dataset.")
    target = serializers.CharField()
    features = serializers.ListField(child=serializers.CharField(), allow_empty=False)
    algorithm = serializers.ChoiceField(choices=ALGORITHM_CHOICES)
    hyperparameters = serializers.DictField(required=False, default=dict)
    test_size = serializers.FloatField(required=False, default=0.2)
    seed = serializers.IntegerField(required=False, default=42)
    thresholds = serializers.DictField(required=False, default=dict)
    sensitive_column = serializers.CharField(required=False, allow_blank=True, default="")

    def validate_model(self, slug):
        model = RegisteredModel.objects.select_related("asset").filter(asset__slug=slug).first()
        if model is None:
            raise serializers.ValidationError(f"No registered model has the slug '{slug}'.")
        return model

    def validate(self, attrs):
        try:
            attrs["request"] = validate_request(attrs["model"], attrs)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        return attrs


class FreshnessPolicySerializer(serializers.ModelSerializer):
    asset = serializers.SlugRelatedField(slug_field="uuid", queryset=Asset.objects.all())
    slug = serializers.CharField(source="asset.slug", read_only=True)
    status = serializers.SerializerMethodField()
    reason = serializers.SerializerMethodField()
    ping_url = serializers.SerializerMethodField(help_text="Only shown to people who may edit the asset.")

    class Meta:
        model = FreshnessPolicy
        fields = [
            "asset", "slug", "method", "schedule_kind", "period", "cron", "time_zone", "grace", "timestamp_column",
            "sql_filter", "file_path", "url", "json_field", "timeout_seconds", "paused", "status", "reason",
            "last_seen_at", "last_started_at", "last_failed_at", "last_checked_at", "probe_error", "next_check_at",
            "ping_url",
        ]  # fmt: skip
        read_only_fields = [
            "last_seen_at", "last_started_at", "last_failed_at", "last_checked_at", "probe_error", "next_check_at",
        ]  # fmt: skip

    def get_status(self, policy) -> str:
        return policy.status_at()[0]

    def get_reason(self, policy) -> str:
        return policy.status_at()[1]

    def get_ping_url(self, policy) -> str:
        request = self.context.get("request")
        if request is None or policy.is_probed or not policy.asset.can_edit(request.user):
            return ""
        return request.build_absolute_uri(reverse("ping:success", kwargs={"key": policy.ping_key}))

    def validate(self, attrs):
        if self.instance is not None and "asset" in attrs and attrs["asset"] != self.instance.asset:
            raise serializers.ValidationError({"asset": "A policy stays with its asset; delete it and make a new one."})
        policy = self.instance or FreshnessPolicy()
        for name, value in attrs.items():
            setattr(policy, name, value)
        full_clean_or_raise(policy, exclude=["ping_key"])
        return attrs


class FreshnessCheckSerializer(serializers.ModelSerializer):
    asset = serializers.SlugRelatedField(source="policy.asset", slug_field="uuid", read_only=True)
    slug = serializers.CharField(source="policy.asset.slug", read_only=True)

    class Meta:
        model = FreshnessCheck
        fields = ["asset", "slug", "checked_at", "trigger", "ping_kind", "status", "observed_at", "reason", "error",
                  "duration_ms", "run_id"]  # fmt: skip


class AlertSerializer(serializers.ModelSerializer):
    asset = serializers.SlugRelatedField(slug_field="uuid", read_only=True)
    slug = serializers.CharField(source="asset.slug", read_only=True, default=None)

    class Meta:
        model = Alert
        fields = ["id", "asset", "slug", "kind", "title", "body", "url", "from_status", "to_status",
                  "recipient_count", "created_at"]  # fmt: skip
