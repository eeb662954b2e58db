from django.urls import reverse
from rest_framework import serializers

from catalog.models import Asset
from core.api.conventions import full_clean_or_raise
from monitoring.models import FreshnessCheck, FreshnessPolicy
from monitoring.reasons import mask_url

DETAIL = "Shown to the asset's owners, its team and staff; empty for other readers."


def may_see_detail(serializer, row, asset):
    """Whether the reader may see ``row``'s technical detail (a policy's or a check's): the asset's owners, its team
    and staff. A list annotates ``user_can_edit`` in the same query as the rows; a single write asks once."""
    request = serializer.context.get("request")
    if request is None:
        return False
    if getattr(row, "user_can_edit", None) is None:
        row.user_can_edit = asset.can_edit(request.user)
    return row.user_can_edit


class FreshnessPolicySerializer(serializers.ModelSerializer):
    asset = serializers.SlugRelatedField(slug_field="uuid", queryset=Asset.objects.all())
    slug = serializers.CharField(source="asset.slug", read_only=True)
    status = serializers.SerializerMethodField()
    reason = serializers.SerializerMethodField()
    ping_url = serializers.SerializerMethodField(help_text="Only shown to people who may edit the asset.")
    probe_reason = serializers.CharField(read_only=True, help_text="Why the last probe failed, in plain words.")

    class Meta:
        model = FreshnessPolicy
        fields = [
            "asset", "slug", "method", "schedule_kind", "period", "cron", "time_zone", "grace", "timestamp_column",
            "filter_column", "filter_operator", "filter_value", "sql_filter", "file_path", "url", "json_field",
            "timeout_seconds", "paused", "status", "reason", "last_seen_at", "last_started_at", "last_failed_at",
            "last_checked_at", "probe_reason", "probe_error", "next_check_at", "ping_url",
        ]  # fmt: skip
        read_only_fields = [
            "last_seen_at", "last_started_at", "last_failed_at", "last_checked_at", "probe_error", "next_check_at",
        ]  # fmt: skip
        extra_kwargs = {
            "sql_filter": {"help_text": f"SQL: an optional condition. {DETAIL}"},
            "url": {"help_text": f"HTTP: the address to ask, secrets in its query string masked. {DETAIL}"},
            "probe_error": {"help_text": f"The last probe's technical detail. {DETAIL}"},
        }

    def to_representation(self, policy):
        data = super().to_representation(policy)
        # Secrets in a probe URL are masked for everyone, owners included; the detail is for those who may edit.
        data["url"] = mask_url(data["url"])
        if not may_see_detail(self, policy, policy.asset):
            data.update(sql_filter="", filter_column="", filter_operator="", filter_value="", url="", probe_error="")
        return data

    def get_status(self, policy) -> str:
        return policy.status_at()[0]

    def get_reason(self, policy) -> str:
        return policy.status_at()[1]

    def get_ping_url(self, policy) -> str:
        request = self.context.get("request")
        if request is None or policy.is_probed or not may_see_detail(self, policy, policy.asset):
            return ""
        return request.build_absolute_uri(reverse("ping:success", kwargs={"key": policy.ping_key}))

    def validate(self, attrs):
        if self.instance is not None and "asset" in attrs and attrs["asset"] != self.instance.asset:
            raise serializers.ValidationError({"asset": "A policy stays with its asset; delete it and make a new one."})
        if self.instance is not None and attrs.get("url") and attrs["url"] == mask_url(self.instance.url):
            attrs["url"] = self.instance.url  # the masked URL read back and sent again: the address is unchanged
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
        extra_kwargs = {"error": {"help_text": f"The probe's technical detail. {DETAIL}"}}

    def to_representation(self, check):
        data = super().to_representation(check)
        if not may_see_detail(self, check, check.policy.asset):
            data["error"] = ""
        return data
