from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.models import Asset, Watch
from trust.choices import IssueStatus
from trust.models import DataIssue, Deprecation, DeprecationImpact, IssueEvent


class AssetRefField(serializers.SlugRelatedField):
    """An asset named by its UUID, as everywhere in the API."""

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", Asset.objects.all())
        super().__init__(slug_field="uuid", **kwargs)


class VerdictSerializer(serializers.Serializer):
    rule = serializers.CharField()
    title = serializers.CharField()
    level = serializers.CharField()
    passed = serializers.BooleanField()
    reason = serializers.CharField()


class BadgeSerializer(serializers.ModelSerializer):
    """An asset's badge. The view passes the badges computed for the whole page in ``context["badges"]``."""

    level = serializers.SerializerMethodField()
    label = serializers.SerializerMethodField()
    rules = serializers.SerializerMethodField()

    class Meta:
        model = Asset
        fields = ["uuid", "kind", "slug", "name", "lifecycle", "level", "label", "rules"]

    def _badge(self, asset):
        return self.context["badges"][asset.pk]

    def get_level(self, asset) -> str:
        return self._badge(asset).level

    def get_label(self, asset) -> str:
        return self._badge(asset).label

    @extend_schema_field(VerdictSerializer(many=True))
    def get_rules(self, asset):
        return self._badge(asset).as_dict()["rules"]


class ImpactSerializer(serializers.ModelSerializer):
    asset = serializers.SlugRelatedField(slug_field="uuid", read_only=True, allow_null=True)
    asset_slug = serializers.CharField(source="asset.slug", read_only=True, allow_null=True)
    acknowledged_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = DeprecationImpact
        fields = ["asset", "asset_slug", "hops", "acknowledged_by", "acknowledged_at", "note"]


class DeprecationSerializer(serializers.ModelSerializer):
    asset = AssetRefField()
    slug = serializers.CharField(source="asset.slug", read_only=True)
    replacement = AssetRefField(required=False, allow_null=True)
    proposed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    impacts = ImpactSerializer(many=True, read_only=True)
    url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = Deprecation
        fields = [
            "uuid", "asset", "slug", "reason", "replacement", "sunset_date", "state", "proposed_by", "created_at",
            "withdrawn_at", "retired_at", "impacts", "url",
        ]  # fmt: skip
        read_only_fields = ["state", "created_at", "withdrawn_at", "retired_at"]


class AcknowledgeSerializer(serializers.Serializer):
    asset = AssetRefField(help_text="The downstream asset that has moved off the deprecated one.")
    note = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class IssueEventSerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = IssueEvent
        fields = ["author", "from_status", "to_status", "body", "created_at"]


class DataIssueSerializer(serializers.ModelSerializer):
    asset = AssetRefField()
    slug = serializers.CharField(source="asset.slug", read_only=True)
    reported_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    duplicate_of = serializers.SlugRelatedField(slug_field="uuid", read_only=True)
    events = IssueEventSerializer(many=True, read_only=True)
    url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = DataIssue
        fields = [
            "uuid", "asset", "slug", "title", "description", "category", "severity", "status", "affected_columns",
            "affected_from", "affected_until", "attachment", "reported_by", "duplicate_of", "created_at",
            "acknowledged_at", "closed_at", "acknowledge_by", "events", "url",
        ]  # fmt: skip
        read_only_fields = ["status", "created_at", "acknowledged_at", "closed_at", "acknowledge_by"]
        # The model's validator checks the attachment; DRF would otherwise run it a second time.
        extra_kwargs = {"attachment": {"validators": []}}


class TransitionSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=IssueStatus.choices)
    comment = serializers.CharField(required=False, allow_blank=True, default="")
    duplicate_of = serializers.SlugRelatedField(
        slug_field="uuid", queryset=DataIssue.objects.all(), required=False, allow_null=True, default=None
    )


class CommentSerializer(serializers.Serializer):
    body = serializers.CharField()


class WatchSerializer(serializers.ModelSerializer):
    asset = AssetRefField()
    slug = serializers.CharField(source="asset.slug", read_only=True)
    kind = serializers.CharField(source="asset.kind", read_only=True)

    class Meta:
        model = Watch
        fields = ["asset", "slug", "kind", "created_at"]
