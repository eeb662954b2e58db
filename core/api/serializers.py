from rest_framework import serializers

from core.models import Alert, JobRun, Notification


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
    waiting_for_worker = serializers.BooleanField(
        source="is_waiting", read_only=True,
        help_text="Saved and queued, but no worker has it yet (the job service is busy or unreachable); it starts "
        "by itself.",
    )  # fmt: skip

    class Meta:
        model = JobRun
        fields = [
            "uuid", "kind", "asset", "slug", "requested_by", "state", "step", "progress", "params", "result", "error",
            "log", "attempts", "created_at", "started_at", "finished_at", "heartbeat_at", "url", "waiting_for_worker",
        ]  # fmt: skip
        read_only_fields = fields


class AlertSerializer(serializers.ModelSerializer):
    asset = serializers.SlugRelatedField(slug_field="uuid", read_only=True)
    slug = serializers.CharField(source="asset.slug", read_only=True, default=None)

    class Meta:
        model = Alert
        fields = ["id", "asset", "slug", "kind", "title", "body", "url", "from_status", "to_status",
                  "recipient_count", "created_at"]  # fmt: skip
