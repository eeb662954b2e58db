"""The registry's rows, one module per concern; every model is importable from ``registry.models``."""

from registry.models.cards import CardEditConflict, CardRevision, ModelCard
from registry.models.gates import Direction, FairnessLimit, QualityThreshold, QualityWaiver, gate_results
from registry.models.models import (
    Assumption,
    ModelUser,
    PromotionBlocked,
    RegisteredModel,
    RegisteredModelQuerySet,
    completeness_prefetches,
    completeness_rows,
)
from registry.models.versions import (
    ChecklistTick,
    Metric,
    ModelVersion,
    PromotionRequest,
    StageChange,
    recorded_annotations,
)

__all__ = [
    "Assumption",
    "CardEditConflict",
    "CardRevision",
    "ChecklistTick",
    "Direction",
    "FairnessLimit",
    "Metric",
    "ModelCard",
    "ModelUser",
    "ModelVersion",
    "PromotionBlocked",
    "PromotionRequest",
    "QualityThreshold",
    "QualityWaiver",
    "RegisteredModel",
    "RegisteredModelQuerySet",
    "StageChange",
    "completeness_prefetches",
    "completeness_rows",
    "gate_results",
    "recorded_annotations",
]
