from django.urls import reverse
from rest_framework import serializers

from catalog.models import Asset
from core.api.conventions import full_clean_or_raise
from monitoring.models import FreshnessCheck, FreshnessPolicy


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
            "filter_column", "filter_operator", "filter_value", "sql_filter", "file_path", "url", "json_field",
            "timeout_seconds", "paused", "status", "reason",
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
        if request is None or policy.is_probed:
            return ""
        may_edit = getattr(policy, "user_can_edit", None)  # annotated by the list; a single write reads it
        if not (may_edit if may_edit is not None else policy.asset.can_edit(request.user)):
            return ""
        return request.build_absolute_uri(reverse("ping:success", kwargs={"key": policy.ping_key}))

    def validate(self, attrs):
        if self.instance is not None and "asset" in attrs and attrs["asset"] != self.instance.asset:
            raise serializers.ValidationError({"asset": "A policy stays with its asset; delete it and make a new one."})
        policy = self.instance or FreshnessPolicy()
        previous = policy.sql_filter
        for name, value in attrs.items():
            setattr(policy, name, value)
        full_clean_or_raise(policy, exclude=["ping_key"])
        refusal = policy.sql_filter_refusal(self.context["request"].user, previous)
        if refusal:
            raise serializers.ValidationError(refusal)
        attrs["sql_filter_author"] = policy.sql_filter_author
        return attrs


class FreshnessCheckSerializer(serializers.ModelSerializer):
    asset = serializers.SlugRelatedField(source="policy.asset", slug_field="uuid", read_only=True)
    slug = serializers.CharField(source="policy.asset.slug", read_only=True)

    class Meta:
        model = FreshnessCheck
        fields = ["asset", "slug", "checked_at", "trigger", "ping_kind", "status", "observed_at", "reason", "error",
                  "duration_ms", "run_id"]  # fmt: skip
