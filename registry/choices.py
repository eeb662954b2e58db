from django.db import models


class Stage(models.TextChoices):
    """MLflow's stages, shown to people in the seed's plain words."""

    DEVELOPMENT = "development", "Under development"
    STAGING = "staging", "In validation"
    PRODUCTION = "production", "In use"
    ARCHIVED = "archived", "Retired"
