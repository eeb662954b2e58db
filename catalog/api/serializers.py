from django.contrib.auth import get_user_model
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Team
from catalog.access import check_ownership
from catalog.choices import AssetKind, Lifecycle
from catalog.models import SOURCE_NOT_YOURS, Asset, Column, Dataset, DataSource, Pipeline, PipelineRun, Report
from core.api.conventions import full_clean_or_raise
from core.api.serializers import HidesJobDetail
from core.models import JobRun


@extend_schema_field(OpenApiTypes.STR)
class SourceSlugField(serializers.SlugRelatedField):
    """A data source named by its asset's slug, as in its page's URL."""

    def __init__(self, **kwargs):
        super().__init__(slug_field="asset__slug", queryset=DataSource.objects.select_related("asset"), **kwargs)


class AssetSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    tags = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Asset
        fields = [
            "uuid", "kind", "slug", "name", "description", "owner", "team", "tags", "lifecycle",
            "maintained_until", "next_review_date", "created_at", "updated_at", "url",
        ]  # fmt: skip

    def get_url(self, asset) -> str:
        return asset.get_absolute_url()


class AssetWithHopsSerializer(AssetSerializer):
    hops = serializers.IntegerField(read_only=True)

    class Meta(AssetSerializer.Meta):
        fields = [*AssetSerializer.Meta.fields, "hops"]


class ImpactPageSerializer(serializers.Serializer):
    """A page of ``impact`` (for the API's schema): the paginated list every other list answers with."""

    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = AssetWithHopsSerializer(many=True)


class ColumnSerializer(serializers.ModelSerializer):
    class Meta:
        model = Column
        fields = [
            "name", "data_type", "description", "nullable", "is_pii", "example_value", "position", "null_fraction",
            "distinct_count", "min_value", "max_value",
        ]  # fmt: skip

    def to_representation(self, column):
        # A page of datasets carries about a thousand columns. Every field is a plain string, number or boolean,
        # which DRF's fields would return unchanged, one field object call at a time: read them directly.
        return {name: getattr(column, name) for name in self.Meta.fields}


class KindSerializer(serializers.ModelSerializer):
    """A source, dataset, report or pipeline with its asset's fields flattened in, readable and writable.

    Validation is the models' own ``clean()`` (``full_clean_or_raise``), so the API refuses what the forms refuse.
    Send back ``updated_at`` as you read it to have a concurrent edit refused (409) instead of overwritten.
    """

    ASSET_FIELDS = [
        "asset", "slug", "uuid", "name", "description", "owner", "team", "tags", "lifecycle", "maintained_until",
        "review_interval_days", "next_review_date", "deprecation_conditions", "updated_at", "url",
    ]  # fmt: skip

    asset = AssetSerializer(read_only=True, help_text="The shared asset identity, as /api/v1/assets/ shows it.")
    slug = serializers.CharField(source="asset.slug", read_only=True)
    uuid = serializers.UUIDField(source="asset.uuid", read_only=True)
    name = serializers.CharField(source="asset.name", max_length=200)
    description = serializers.CharField(source="asset.description", required=False, allow_blank=True)
    owner = serializers.SlugRelatedField(
        source="asset.owner",
        slug_field="username",
        queryset=get_user_model().objects.filter(is_active=True),
        required=False,
        allow_null=True,
    )
    team = serializers.SlugRelatedField(
        source="asset.team", slug_field="slug", queryset=Team.objects.all(), required=False, allow_null=True
    )
    tags = serializers.ListField(child=serializers.CharField(max_length=50), max_length=20, required=False)
    lifecycle = serializers.ChoiceField(source="asset.lifecycle", choices=Lifecycle.choices, required=False)
    maintained_until = serializers.DateField(source="asset.maintained_until", required=False, allow_null=True)
    review_interval_days = serializers.IntegerField(
        source="asset.review_interval_days", required=False, allow_null=True, min_value=0
    )
    next_review_date = serializers.DateField(source="asset.next_review_date", required=False, allow_null=True)
    deprecation_conditions = serializers.CharField(
        source="asset.deprecation_conditions", required=False, allow_blank=True
    )
    updated_at = serializers.DateTimeField(source="asset.updated_at", required=False)
    url = serializers.SerializerMethodField()

    def get_url(self, row) -> str:
        return row.asset.get_absolute_url()

    def to_representation(self, row):
        data = super().to_representation(row)
        data["tags"] = [tag.name for tag in row.asset.tags.all()]
        return data

    def validate(self, attrs):
        """Apply the new values to unsaved instances and run the models' validation on them."""
        asset_values = dict(attrs.pop("asset", {}))
        self.version = asset_values.pop("updated_at", None)
        self.new_tags = [name.strip().lower() for name in attrs.pop("tags", [])] if "tags" in attrs else None
        if self.instance is None:
            asset = Asset(kind=self.kind)
            if self.context["request"].user.is_authenticated:
                asset.owner = self.context["request"].user
            row = self.Meta.model()
        else:
            asset, row = self.instance.asset, self.instance
        check_ownership(
            self.context["request"].user,
            asset_values.get("owner", asset.owner_id),
            asset_values.get("team", asset.team_id),
            asset=asset if asset.pk else None,
        )
        for name, value in asset_values.items():
            setattr(asset, name, value)
        for name, value in attrs.items():
            setattr(row, name, value)
        full_clean_or_raise(asset, exclude=["slug"])
        full_clean_or_raise(row, exclude=["asset"])
        self.asset, self.row = asset, row
        return attrs


class SourceSerializer(KindSerializer):
    kind = AssetKind.SOURCE

    class Meta:
        model = DataSource
        fields = [*KindSerializer.ASSET_FIELDS, "source_kind", "connection", "secret_env_var", "namespace"]


class DatasetSerializer(KindSerializer):
    kind = AssetKind.DATASET

    source = SourceSlugField()
    steward = serializers.SlugRelatedField(
        slug_field="username", queryset=get_user_model().objects.filter(is_active=True), required=False, allow_null=True
    )
    columns = ColumnSerializer(many=True, read_only=True)
    retention_rule = serializers.CharField(read_only=True)

    class Meta:
        model = Dataset
        fields = [
            *KindSerializer.ASSET_FIELDS, "source", "qualified_name", "format", "steward", "classification",
            "retention_days", "retain_until", "retention_action", "retention_rule", "intended_use",
            "out_of_scope_uses", "update_frequency", "row_count", "size_bytes", "last_updated_at",
            "documentation_url", "snapshot_url", "columns",
        ]  # fmt: skip
        # The model's own constraint check (in ``validate``) words the duplicate error like the form does.
        validators = []

    def validate_source(self, source):
        """A dataset goes only into a source its writer may edit: a source's owner decides what is read from it."""
        unchanged = self.instance is not None and self.instance.source_id == source.pk
        if not unchanged and not source.asset.can_edit(self.context["request"].user):
            raise serializers.ValidationError(SOURCE_NOT_YOURS.format(source=source.asset.name))
        return source


class ReportSerializer(KindSerializer):
    kind = AssetKind.REPORT

    class Meta:
        model = Report
        fields = [*KindSerializer.ASSET_FIELDS, "url", "audience", "refresh_schedule"]


class PipelineRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = PipelineRun
        fields = ["run_id", "origin", "state", "started_at", "ended_at", "output_rows", "output_bytes"]


class PipelineSerializer(KindSerializer):
    kind = AssetKind.PIPELINE

    class Meta:
        model = Pipeline
        fields = [*KindSerializer.ASSET_FIELDS, "schedule", "code_url", "namespace"]


class LineageEditSerializer(serializers.Serializer):
    direction = serializers.ChoiceField(choices=["down", "up"], help_text="down: the other asset is fed by this one.")
    other = serializers.SlugRelatedField(slug_field="uuid", queryset=Asset.objects.all())


class ScanSerializer(HidesJobDetail, serializers.ModelSerializer):
    source = serializers.SlugRelatedField(source="asset", slug_field="slug", read_only=True)
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    waiting_for_worker = serializers.BooleanField(source="is_waiting", read_only=True)
    details_shown = serializers.SerializerMethodField(
        help_text="False when result and error are left empty for you (shown to the starter, owners and staff)."
    )

    class Meta:
        model = JobRun
        fields = [
            "id", "source", "requested_by", "state", "step", "progress", "result", "error", "created_at",
            "started_at", "finished_at", "waiting_for_worker", "details_shown",
        ]  # fmt: skip


class ScanRequestSerializer(serializers.Serializer):
    source = SourceSlugField()
