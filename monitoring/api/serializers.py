from rest_framework import serializers

from monitoring.models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    asset = serializers.SlugRelatedField(slug_field="uuid", read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "url", "asset", "created_at", "read_at"]
