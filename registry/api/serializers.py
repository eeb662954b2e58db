from rest_framework import serializers

from catalog.api.serializers import AssetSerializer
from registry.models import Metric, ModelVersion, RegisteredModel


class MetricSerializer(serializers.ModelSerializer):
    class Meta:
        model = Metric
        fields = ["name", "value", "split"]


class ModelVersionSerializer(serializers.ModelSerializer):
    metrics = MetricSerializer(many=True, read_only=True)

    class Meta:
        model = ModelVersion
        fields = [
            "version",
            "stage",
            "algorithm",
            "hyperparameters",
            "features",
            "mlflow_run_id",
            "model_uri",
            "created_at",
            "metrics",
        ]


class RegisteredModelSerializer(serializers.ModelSerializer):
    asset = AssetSerializer(read_only=True)
    slug = serializers.CharField(source="asset.slug", read_only=True)

    class Meta:
        model = RegisteredModel
        fields = ["slug", "asset", "summary", "goal", "users_description", "mlflow_name"]
