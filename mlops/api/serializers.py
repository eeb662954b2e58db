"""Serializers of the MLOps API: a model's quality gates and its team's webhooks with their delivery log."""

import copy

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core import outbound
from core.validators import is_web_url, web_url_validator
from mlops.models import EVERY_HOURS_RANGE, DeliveryHook, ScoringSchedule, WebhookDelivery
from registry.models.gates import Direction


class ThresholdSerializer(serializers.Serializer):
    metric = serializers.CharField(max_length=100, help_text="A metric training records, e.g. roc_auc.")
    split = serializers.CharField(max_length=100, default="test", help_text="The split it is measured on.")
    direction = serializers.ChoiceField(
        choices=Direction.choices, default=Direction.AT_LEAST,
        help_text='"min": the value must be at least the threshold; "max": at most.',
    )  # fmt: skip
    value = serializers.FloatField()


class FairnessSerializer(serializers.Serializer):
    sensitive_column = serializers.CharField(max_length=200, help_text="The column whose groups must be treated alike.")
    max_gap = serializers.FloatField(min_value=0, help_text="The largest metric gap allowed between two groups.")


class QualityGatesSerializer(serializers.Serializer):
    """Every threshold of the model and its fairness limit (null: none). A PUT replaces them all; they count for
    the next promotion."""

    thresholds = serializers.ListField(child=ThresholdSerializer(), allow_empty=True, max_length=100)
    fairness = FairnessSerializer(allow_null=True, required=False, default=None)

    def validate_thresholds(self, thresholds):
        seen = set()
        for item in thresholds:
            key = (item["metric"], item["split"])
            if key in seen:
                raise serializers.ValidationError(f"{item['metric']} on {item['split']} is given twice.")
            seen.add(key)
        return thresholds


def gates_of(model):
    """A model's gates as ``QualityGatesSerializer`` reads them."""
    fairness = getattr(model, "fairness_limit", None)
    return {
        "thresholds": [
            {"metric": t.metric, "split": t.split, "direction": t.direction, "value": t.value}
            for t in model.quality_thresholds.all()
        ],
        "fairness": None if fairness is None else {"sensitive_column": fairness.sensitive_column,
                                                   "max_gap": fairness.max_gap},
    }  # fmt: skip


class DeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = ["id", "event", "state", "attempts", "last_status_code", "last_error", "next_attempt_at",
                  "delivered_at", "created_at"]  # fmt: skip
        read_only_fields = fields


class DeliveryHookSerializer(serializers.ModelSerializer):
    """A team webhook. The signing secret is in the answer to the POST that creates it, and never again."""

    url = serializers.CharField(max_length=500, help_text="An http(s) address outside the portal's network.")
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    recent_deliveries = serializers.SerializerMethodField()

    class Meta:
        model = DeliveryHook
        fields = ["id", "url", "active", "created_by", "created_at", "recent_deliveries"]
        read_only_fields = ["id", "active", "created_by", "created_at"]

    def validate_url(self, url):
        try:
            web_url_validator(url)
            if not is_web_url(url):
                raise DjangoValidationError("not a web address")
        except DjangoValidationError:
            raise serializers.ValidationError("Give an http or https address.") from None
        try:
            outbound.check_url(url)
        except outbound.OutboundRefused as exc:
            raise serializers.ValidationError(str(exc)) from None
        team = self.context["team"]
        if DeliveryHook.objects.filter(team=team, url=url).exists():
            raise serializers.ValidationError(f"{team} already has a webhook at this address.")
        return url

    @extend_schema_field(DeliverySerializer(many=True))
    def get_recent_deliveries(self, hook):
        deliveries = getattr(hook, "recent", None)
        if deliveries is None:
            return []
        return DeliverySerializer(deliveries, many=True).data


class CreatedHookSerializer(DeliveryHookSerializer):
    secret = serializers.CharField(read_only=True, help_text="Shown once: sign-checks use it (HMAC-SHA256).")

    class Meta(DeliveryHookSerializer.Meta):
        fields = [*DeliveryHookSerializer.Meta.fields, "secret"]


class ScorableDatasetField(serializers.CharField):
    """A catalog dataset named by its slug, one scoring may read: the rule and the lookup are the page's
    (``mlops.scoring.scorable_dataset``). Reads as the ``Dataset``, shows as its slug."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 200)
        kwargs.setdefault("help_text", "The slug of the catalog dataset to score: CSV or Parquet under DATA_ROOT, or "
                                       "a table of a SQL source; not retired.")  # fmt: skip
        super().__init__(**kwargs)

    def run_validation(self, data=serializers.empty):
        from mlops.scoring import scorable_dataset

        slug = super().run_validation(data)  # the text checked as text first (type, length)
        try:
            return scorable_dataset(slug)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None

    def to_representation(self, dataset):
        return dataset.asset.slug


class ScoringRunSerializer(serializers.Serializer):
    """Score a catalog dataset now with the version."""

    dataset = ScorableDatasetField()
    id_column = serializers.CharField(max_length=100, required=False, allow_blank=True, default="",
                                      help_text="The input's column of row ids (optional).")  # fmt: skip


class ScoringScheduleSerializer(serializers.ModelSerializer):
    """Batch scoring on a schedule: every ``every_hours`` hours, ``version`` (the version in use when null) scores
    ``dataset`` (a catalog dataset's slug: CSV or Parquet under DATA_ROOT, or a table of a SQL source)."""

    version = serializers.IntegerField(
        allow_null=True, required=False, default=None, source="version_number",
        help_text="The version's number; null: whichever version is in use when the run starts.",
    )  # fmt: skip
    dataset = ScorableDatasetField()
    last_run = serializers.SerializerMethodField()

    class Meta:
        model = ScoringSchedule
        fields = ["id", "version", "dataset", "id_column", "every_hours", "active", "next_run_at", "last_run",
                  "last_note", "created_at"]  # fmt: skip
        read_only_fields = ["id", "last_run", "last_note", "created_at"]
        extra_kwargs = {
            "next_run_at": {"required": False, "help_text": "When it runs next; now when not given."},
            # DRF turns the model's range validators into min_value and max_value with its own wording: the page's
            # sentence instead, so both doors say the same.
            "every_hours": {"error_messages": {"min_value": EVERY_HOURS_RANGE, "max_value": EVERY_HOURS_RANGE}},
        }

    def to_representation(self, schedule):
        schedule.version_number = schedule.version.version if schedule.version_id else None
        return super().to_representation(schedule)

    @extend_schema_field(serializers.DictField(allow_null=True))
    def get_last_run(self, schedule):
        run = schedule.last_run
        if run is None:
            return None
        return {"run": str(run.uuid), "state": run.state, "url": run.get_absolute_url()}

    def validate(self, attrs):
        """The version's number is read here (the dataset by its field); the rules are the model's
        (``full_clean``), the same the page's form runs."""
        model = self.context["model"]
        if "version_number" in attrs:
            number = attrs.pop("version_number")
            version = None
            if number is not None:
                version = next((v for v in model.versions.all() if v.version == number), None)
                if version is None:
                    raise serializers.ValidationError({"version": f"{model} has no version {number}."})
            attrs["version"] = version
        schedule = copy.copy(self.instance) if self.instance else ScoringSchedule(model=model)
        for name, value in attrs.items():
            setattr(schedule, name, value)
        try:
            # The foreign keys were just read, and the serializer checked each field: the model's own rules remain.
            schedule.full_clean(exclude=["model", "version", "dataset", "last_run", "created_by"],
                                validate_unique=False, validate_constraints=False)  # fmt: skip
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        return attrs
