from django.db import models


class Stage(models.TextChoices):
    """MLflow's stages, shown to people in the seed's plain words."""

    DEVELOPMENT = "development", "Under development"
    STAGING = "staging", "In validation"
    PRODUCTION = "production", "In use"
    ARCHIVED = "archived", "Retired"


# Where a version may go from each stage by a plain stage change. Production is reached only through an approved
# promotion request (``PromotionRequest.approve``), never by ``change_stage``.
ALLOWED_MOVES = {
    Stage.DEVELOPMENT: {Stage.STAGING, Stage.ARCHIVED},
    Stage.STAGING: {Stage.DEVELOPMENT, Stage.ARCHIVED},
    Stage.PRODUCTION: {Stage.ARCHIVED},
    Stage.ARCHIVED: {Stage.DEVELOPMENT},
}


class ChecklistItem(models.TextChoices):
    """The seed's production-readiness checklist: every item must be ticked before a version goes into use."""

    ENGINEERING_SIGNOFF = "engineering_signoff", "Engineering sign-off on inputs, outputs and purpose"
    CODE_REVIEW = "code_review", "Code review done"
    ALGORITHM_REVIEW = "algorithm_review", "Algorithm review done"
    VERSION_CONTROL = "version_control", "Code is in version control (link)"
    ACCEPTANCE_CRITERIA = "acceptance_criteria", "All acceptance criteria met"
    VALIDATION_DOCUMENTED = "validation_documented", "Model validation documented"
    VALIDATION_MEETING = "validation_meeting", "Validation review meeting held"


class PromotionState(models.TextChoices):
    PENDING = "pending", "Waiting for approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"


class ModelUserKind(models.TextChoices):
    INTERNAL = "internal", "Internal team"
    EXTERNAL = "external", "External"
