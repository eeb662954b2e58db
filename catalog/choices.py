from django.db import models


class AssetKind(models.TextChoices):
    SOURCE = "source", "Data source"
    DATASET = "dataset", "Dataset"
    REPORT = "report", "Report"
    PIPELINE = "pipeline", "Pipeline"
    MODEL = "model", "Model"
    MODEL_VERSION = "model_version", "Model version"


class Lifecycle(models.TextChoices):
    ACTIVE = "active", "Active"
    DEPRECATED = "deprecated", "Deprecated"
    RETIRED = "retired", "Retired"


class SourceKind(models.TextChoices):
    POSTGRESQL = "postgresql", "PostgreSQL"
    MYSQL = "mysql", "MySQL"
    SQLITE = "sqlite", "SQLite"
    OBJECT_STORE = "object_store", "S3 / object store"
    FILES = "files", "Files"
    HTTP_API = "http_api", "HTTP API"
    OTHER = "other", "Other"


class DatasetFormat(models.TextChoices):
    TABLE = "table", "Database table"
    VIEW = "view", "Database view"
    CSV = "csv", "CSV"
    PARQUET = "parquet", "Parquet"
    JSON = "json", "JSON"
    OTHER = "other", "Other"


class LineageOrigin(models.TextChoices):
    MANUAL = "manual", "Added by hand"
    OPENLINEAGE = "openlineage", "OpenLineage event"
    REGISTRY = "registry", "Model registry"
    SCAN = "scan", "Schema scan"
    DBT = "dbt", "dbt project"


class RunState(models.TextChoices):
    """OpenLineage's run states, also used by heartbeat pings."""

    RUNNING = "running", "Running"
    COMPLETE = "complete", "Completed"
    FAIL = "fail", "Failed"
    ABORT = "abort", "Aborted"


class RunOrigin(models.TextChoices):
    OPENLINEAGE = "openlineage", "OpenLineage event"
    HEARTBEAT = "heartbeat", "Heartbeat ping"


class Classification(models.TextChoices):
    """How sensitive a dataset is; decides who may see it and how carefully it is handled."""

    PUBLIC = "public", "Public"
    INTERNAL = "internal", "Internal"
    CONFIDENTIAL = "confidential", "Confidential"
    RESTRICTED = "restricted", "Restricted"


class RetentionAction(models.TextChoices):
    """What happens to data once its retention period is over."""

    DELETE = "delete", "deleted"
    ARCHIVE = "archive", "archived"
    ANONYMISE = "anonymise", "anonymised"
    REVIEW = "review", "reviewed by the owner"


class ChangeAction(models.TextChoices):
    CREATED = "created", "Created"
    UPDATED = "updated", "Updated"
    LINEAGE = "lineage", "Lineage changed"


class SchemaChangeOrigin(models.TextChoices):
    SCAN = "scan", "Schema scan"
    OPENLINEAGE = "openlineage", "OpenLineage event"
    DBT = "dbt", "dbt import"
