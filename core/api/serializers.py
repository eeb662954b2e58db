from rest_framework import serializers

from core.models import Alert, DetailVisibility, JobRun, Notification


class NotificationSerializer(serializers.ModelSerializer):
    asset = serializers.SlugRelatedField(slug_field="uuid", read_only=True, allow_null=True)

    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "url", "asset", "created_at", "read_at"]


class HidesJobDetail:
    """Serializers of job runs: the parameters, result, error and log are empty, and ``details_shown`` false, for
    someone who may not read them (``core.models.DetailVisibility``; one visibility per request, shared by a list's
    rows)."""

    HIDDEN = {"params": dict, "result": dict, "error": str, "log": str}

    def get_details_shown(self, run) -> bool:
        request = self.context.get("request")
        if request is None:
            return True
        visibility = self.context.setdefault("job_detail_visibility", DetailVisibility(request.user))
        return visibility.allows(run)

    def to_representation(self, run):
        data = super().to_representation(run)
        if not data.get("details_shown", True):
            for field, empty in self.HIDDEN.items():
                if field in data:
                    data[field] = empty()
        return data


class JobRunSerializer(HidesJobDetail, serializers.ModelSerializer):
    asset = serializers.SlugRelatedField(slug_field="uuid", read_only=True, allow_null=True)
    slug = serializers.CharField(source="asset.slug", read_only=True, allow_null=True, default=None)
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    url = serializers.CharField(source="get_absolute_url", read_only=True)
    waiting_for_worker = serializers.BooleanField(
        source="is_waiting", read_only=True,
        help_text="Saved and queued, but no worker has it yet (the job service is busy or unreachable); it starts "
        "by itself.",
    )  # fmt: skip
    details_shown = serializers.SerializerMethodField(
        help_text="False when params, result, error and log are left empty for you: they are shown to the person "
        "who started the run, the owners of its asset and staff."
    )

    class Meta:
        model = JobRun
        fields = [
            "uuid", "kind", "asset", "slug", "requested_by", "state", "step", "progress", "params", "result", "error",
            "log", "attempts", "created_at", "started_at", "finished_at", "heartbeat_at", "url", "waiting_for_worker",
            "details_shown",
        ]  # fmt: skip
        read_only_fields = fields


class AlertSerializer(serializers.ModelSerializer):
    asset = serializers.SlugRelatedField(slug_field="uuid", read_only=True, allow_null=True)
    slug = serializers.CharField(source="asset.slug", read_only=True, allow_null=True, default=None)

    class Meta:
        model = Alert
        fields = ["id", "asset", "slug", "kind", "title", "body", "url", "from_status", "to_status",
                  "recipient_count", "created_at"]  # fmt: skip
