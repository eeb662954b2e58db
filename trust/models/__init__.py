"""Trust's rows, one module per concern; every model is importable from ``trust.models``."""

from trust.models.badges import BadgeLink, StoredBadge
from trust.models.deprecations import Deprecation, DeprecationImpact
from trust.models.downstream import ProblemDelivery, ProblemNotice, UpstreamProblem
from trust.models.issues import DataIssue, IssueEvent, validate_attachment
from trust.models.vouching import Certification, Review, ReviewNotice

__all__ = [
    "BadgeLink",
    "Certification",
    "DataIssue",
    "Deprecation",
    "DeprecationImpact",
    "IssueEvent",
    "ProblemDelivery",
    "ProblemNotice",
    "Review",
    "ReviewNotice",
    "StoredBadge",
    "UpstreamProblem",
    "validate_attachment",
]
