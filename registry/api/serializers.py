from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Team
from catalog.api.serializers import AssetSerializer
from catalog.models import Dataset
from registry.choices import ChecklistItem, Stage
from registry.models import (
    CardRevision,
    ChecklistTick,
    Metric,
    ModelCard,
    ModelVersion,
    PromotionRequest,
    RegisteredModel,
    StageChange,
)
from registry.services import may_choose_approvers
from registry.training import ALGORITHM_CHOICES, validate_request


def _people():
    return get_user_model().objects.filter(is_active=True)


@extend_schema_field(OpenApiTypes.STR)
class DatasetSlugField(serializers.SlugRelatedField):
    """A catalog dataset named by its slug."""

    def __init__(self, **kwargs):
        super().__init__(slug_field="asset__slug", queryset=Dataset.objects.all(), **kwargs)


class MetricSerializer(serializers.ModelSerializer):
    """On a new version, every metric was computed on the version's ``split``."""

    class Meta:
        model = Metric
        fields = ["name", "value", "split"]
        read_only_fields = ["split"]


class ChecklistTickSerializer(serializers.ModelSerializer):
    ticked_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    label = serializers.CharField(source="get_item_display", read_only=True)

    class Meta:
        model = ChecklistTick
        fields = ["item", "label", "ticked_by", "ticked_at", "link"]
        read_only_fields = ["ticked_at"]


class StageChangeSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = StageChange
        fields = ["from_stage", "to_stage", "actor", "reason", "created_at"]


class PromotionRequestSerializer(serializers.ModelSerializer):
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    version = serializers.IntegerField(source="version.version", read_only=True)

    class Meta:
        model = PromotionRequest
        fields = [
            "id", "version", "state", "requested_by", "requested_at", "note", "decided_by", "decided_at",
            "decision_note",
        ]  # fmt: skip
        read_only_fields = fields


class ModelVersionSerializer(serializers.ModelSerializer):
    """A version; on create, goes through ``register_version`` (number, asset, lineage, metrics)."""

    slug = serializers.CharField(source="asset.slug", read_only=True)
    stage_label = serializers.CharField(source="get_stage_display", read_only=True)
    metrics = MetricSerializer(many=True, required=False)
    split = serializers.CharField(write_only=True, required=False, default="test")
    training_datasets = DatasetSlugField(many=True, required=False)
    evaluation_datasets = DatasetSlugField(many=True, required=False)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    checklist = ChecklistTickSerializer(source="checklist_ticks", many=True, read_only=True)

    class Meta:
        model = ModelVersion
        fields = [
            "slug", "version", "stage", "stage_label", "algorithm", "hyperparameters", "features",
            "training_datasets", "evaluation_datasets", "snapshot_url", "size_bytes", "mlflow_run_id", "model_uri",
            "mlflow_version", "mlflow_aliases", "run_params", "run_metrics", "created_by", "created_at", "metrics",
            "split", "checklist",
        ]  # fmt: skip
        read_only_fields = [
            "version", "stage", "mlflow_version", "mlflow_aliases", "run_params", "run_metrics", "created_at",
        ]  # fmt: skip

    def validate_hyperparameters(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError('Give an object, e.g. {"max_depth": 6}.')
        return value

    def validate_features(self, value):
        if not isinstance(value, list):
            raise serializers.ValidationError('Give a list of feature names, e.g. ["age", "tenure"].')
        return value


class RegisteredModelSerializer(serializers.ModelSerializer):
    asset = AssetSerializer(read_only=True)
    slug = serializers.CharField(source="asset.slug", read_only=True)
    name = serializers.CharField(source="asset.name", max_length=200)
    team = serializers.SlugRelatedField(
        source="asset.team", slug_field="slug", queryset=Team.objects.all(), required=False, allow_null=True
    )
    developers = serializers.SlugRelatedField(slug_field="username", queryset=_people(), many=True, required=False)
    approvers = serializers.SlugRelatedField(slug_field="username", queryset=_people(), many=True, required=False)
    completeness = serializers.SerializerMethodField()

    class Meta:
        model = RegisteredModel
        fields = [
            "slug", "name", "team", "asset", "summary", "goal", "developers", "users_description", "approvers",
            "mlflow_name", "completeness",
        ]  # fmt: skip
        read_only_fields = ["mlflow_name"]

    def get_completeness(self, model) -> dict:
        percent, missing = model.card_completeness()
        return {"percent": percent, "missing": missing}

    def validate_approvers(self, value):
        request = self.context["request"]
        if not may_choose_approvers(request.user):
            raise serializers.ValidationError("Only staff can choose who approves promotions.")
        return value


class ModelCardSerializer(serializers.ModelSerializer):
    """The card's prose. Send ``revision`` (or an If-Match header) with the revision you edited."""

    revision = serializers.IntegerField(required=False, help_text="The revision your edit starts from.")
    updated_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = ModelCard
        fields = [*ModelCard.TEXT_FIELDS, "revision", "updated_by", "updated_at"]


class CardRevisionSerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = CardRevision
        fields = ["number", "author", "created_at", "changed_fields", "restored_from", "snapshot"]


class StageMoveSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=Stage.choices)
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class TickSerializer(serializers.Serializer):
    item = serializers.ChoiceField(choices=ChecklistItem.choices)
    link = serializers.URLField(required=False, allow_blank=True, default="")


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


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
