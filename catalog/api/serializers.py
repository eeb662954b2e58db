from rest_framework import serializers

from catalog.models import Asset, Column, Dataset


class AssetSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True)
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


class ColumnSerializer(serializers.ModelSerializer):
    class Meta:
        model = Column
        fields = ["name", "data_type", "description", "nullable", "is_pii", "example_value", "position"]


class DatasetSerializer(serializers.ModelSerializer):
    asset = AssetSerializer(read_only=True)
    slug = serializers.CharField(source="asset.slug", read_only=True)
    source = serializers.CharField(source="source.asset.slug", read_only=True)
    columns = ColumnSerializer(many=True, read_only=True)

    class Meta:
        model = Dataset
        fields = [
            "slug", "asset", "source", "qualified_name", "format", "intended_use", "out_of_scope_uses",
            "update_frequency", "row_count", "size_bytes", "last_updated_at", "documentation_url", "snapshot_url",
            "columns",
        ]  # fmt: skip
