from django.contrib.auth import get_user_model
from rest_framework import serializers

from accounts.models import Team


class TeamSerializer(serializers.ModelSerializer):
    members = serializers.SlugRelatedField(slug_field="username", many=True, read_only=True)

    class Meta:
        model = Team
        fields = ["slug", "name", "description", "email", "members"]


class MeSerializer(serializers.ModelSerializer):
    teams = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)

    class Meta:
        model = get_user_model()
        fields = ["username", "first_name", "last_name", "email", "is_staff", "teams"]
