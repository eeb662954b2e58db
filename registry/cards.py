"""The model card as documents: the sections a reader sees, the two exports, and revision diffs."""

import difflib
from dataclasses import dataclass

import yaml

from registry.models import CardEditConflict, ModelCard

# The owner's prose, grouped the way the card page and the exports read: (heading, [(field, label)]).
CARD_LAYOUT = [
    ("Model details", ["description"]),
    ("Intended use", ["intended_uses", "out_of_scope_uses"]),
    ("Limitations", ["limitations"]),
    ("Fairness", ["fairness_considerations", "fairness_validation"]),
    ("Validation", ["validation"]),
    ("The project", ["introduction", "problem", "data", "data_preparation", "approach", "results", "recommendations"]),
    ("Other comments and learnings", ["comments"]),
]


def field_label(name):
    return ModelCard._meta.get_field(name).verbose_name.capitalize()


def card_document(model):
    """Everything the card says, as plain data: the one source for the Markdown and JSON exports."""
    card = model.get_card()
    version = model.current_version()
    metrics = list(version.metrics.all()) if version else []
    return {
        "name": model.asset.name,
        "slug": model.asset.slug,
        "summary": model.summary,
        "goal": model.goal,
        "owner": model.asset.owner.get_username() if model.asset.owner else None,
        "team": model.asset.team.name if model.asset.team else None,
        "developers": [user.get_username() for user in model.developers.all()],
        "users": model.users_description,
        "model_users": [
            {"name": user.name, "kind": user.kind, "needs": user.needs} for user in model.model_users.all()
        ],
        "tags": [tag.name for tag in model.asset.tags.all()],
        "assumptions": [
            {
                "statement": item.statement,
                "verified_on": item.verified_on.isoformat() if item.verified_on else None,
                "expires_on": item.expires_on.isoformat() if item.expires_on else None,
            }
            for item in model.assumptions.all()
        ],
        "version": None
        if version is None
        else {
            "number": version.version,
            "stage": version.get_stage_display(),
            "algorithm": version.algorithm,
            "hyperparameters": version.hyperparameters,
            "features": version.features,
            "size_bytes": version.size_bytes,
            "created_at": version.created_at.isoformat(),
            "snapshot_url": version.snapshot_url,
            "mlflow_run_id": version.mlflow_run_id,
            "model_uri": version.model_uri,
            "training_datasets": [d.asset.slug for d in version.training_datasets.all()],
            "evaluation_datasets": [d.asset.slug for d in version.evaluation_datasets.all()],
            "metrics": [{"name": m.name, "value": m.value, "split": m.split} for m in metrics],
        },
        "sections": {name: getattr(card, name) for name in ModelCard.TEXT_FIELDS},
    }


def to_markdown(document):
    """Hugging Face style: YAML front matter with metrics under ``model-index``, then the card in Markdown."""
    version = document["version"]
    front = {"tags": document["tags"]} if document["tags"] else {}
    if version and version["metrics"]:
        by_split = {}
        for metric in version["metrics"]:
            by_split.setdefault(metric["split"] or "unspecified", []).append(
                {"type": metric["name"], "name": metric["name"], "value": metric["value"]}
            )
        task = document["summary"] or document["name"]
        front["model-index"] = [
            {
                "name": document["slug"],
                "results": [
                    {"task": {"name": task}, "dataset": {"name": split, "type": split}, "metrics": metrics}
                    for split, metrics in by_split.items()
                ],
            }
        ]  # fmt: skip
    lines = ["---", yaml.safe_dump(front, sort_keys=False, allow_unicode=True).strip(), "---", ""]
    lines += [f"# {document['name']}", "", document["summary"], ""]
    facts = [
        ("Goal", document["goal"]),
        ("Owner", document["owner"]),
        ("Team", document["team"]),
        ("Developers", ", ".join(document["developers"])),
        ("Users and their needs", document["users"]),
    ]
    if version:
        facts += [
            ("Version", f"{version['number']} ({version['stage']})"),
            ("Algorithm", version["algorithm"]),
            ("Training data", ", ".join(version["training_datasets"])),
            ("Data snapshot", version["snapshot_url"]),
            ("MLflow run", version["mlflow_run_id"]),
        ]
    lines += [f"- **{label}:** {value}" for label, value in facts if value]
    if document["assumptions"]:
        lines += ["", "## Assumptions", ""]
        lines += [
            f"- {item['statement']} (verified on {item['verified_on'] or 'never'})" for item in document["assumptions"]
        ]
    for heading, fields in CARD_LAYOUT:
        texts = [(name, document["sections"][name]) for name in fields if document["sections"][name].strip()]
        if not texts:
            continue
        lines += ["", f"## {heading}"]
        for name, text in texts:
            lines += ["", f"### {field_label(name)}", "", text.strip()]
    if version and version["metrics"]:
        lines += ["", "## Metrics", "", "| Metric | Value | Computed on |", "|---|---|---|"]
        lines += [f"| {m['name']} | {m['value']:g} | {m['split']} |" for m in version["metrics"]]
    return "\n".join(lines) + "\n"


def _described(text):
    return [{"description": text}] if text.strip() else []


def to_model_card_toolkit(document):
    """The card in Model Card Toolkit's JSON structure (model_details, model_parameters, quantitative_analysis,
    considerations), with our extra sections under ``project``."""
    version = document["version"] or {}
    sections = document["sections"]
    owners = [{"name": document["owner"], "contact": document["team"] or ""}] if document["owner"] else []
    return {
        "schema_version": "0.0.2",
        "model_details": {
            "name": document["name"],
            "overview": document["summary"],
            "documentation": sections["description"],
            "owners": owners + [{"name": name, "role": "developer"} for name in document["developers"]],
            "version": {"name": str(version.get("number", "")), "date": version.get("created_at", "")},
            "references": [{"reference": url} for url in [version.get("snapshot_url")] if url],
        },
        "model_parameters": {
            "model_architecture": version.get("algorithm", ""),
            "hyperparameters": version.get("hyperparameters", {}),
            "input_format": ", ".join(str(f) for f in version.get("features", [])),
            "data": [{"name": slug, "role": "training"} for slug in version.get("training_datasets", [])]
            + [{"name": slug, "role": "evaluation"} for slug in version.get("evaluation_datasets", [])],
        },
        "quantitative_analysis": {
            "performance_metrics": [
                {"type": m["name"], "value": m["value"], "slice": m["split"]} for m in version.get("metrics", [])
            ]
        },
        "considerations": {
            "users": ([{"description": document["users"]}] if document["users"] else [])
            + [{"description": f"{u['name']}: {u['needs']}"} for u in document["model_users"]],
            "use_cases": _described(sections["intended_uses"]),
            "out_of_scope_uses": _described(sections["out_of_scope_uses"]),
            "limitations": _described(sections["limitations"]),
            "assumptions": document["assumptions"],
            "ethical_considerations": [
                {"name": sections["fairness_considerations"], "mitigation_strategy": sections["fairness_validation"]}
            ]
            if sections["fairness_considerations"] or sections["fairness_validation"]
            else [],
        },
        "project": {name: sections[name] for name in CARD_LAYOUT[5][1] + ["validation", "comments"]},
    }  # fmt: skip


def diff_snapshots(old, new):
    """[(label, [(kind, line)])] for each section that differs; kind is "added", "removed" or "same"."""
    changes = []
    for name in ModelCard.TEXT_FIELDS:
        before, after = (old.get(name) or "").splitlines(), (new.get(name) or "").splitlines()
        if before == after:
            continue
        lines = []
        for line in difflib.ndiff(before, after):
            marker, text = line[:2], line[2:]
            if marker == "? ":
                continue
            lines.append(({"+ ": "added", "- ": "removed"}.get(marker, "same"), text))
        changes.append((field_label(name), lines))
    return changes


# --- an edit that met someone else's ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Section:
    """One section as three texts: as the editor opened it (``base``; None when that revision is unknown), as it is
    saved now, and as the editor sent it."""

    name: str
    base: str | None
    saved: str
    yours: str

    @property
    def label(self):
        return field_label(self.name)

    @property
    def conflict(self):
        """Both changed it, differently: only the editor may choose what it says."""
        if self.yours == self.saved:
            return False
        return self.base is None or self.base not in (self.yours, self.saved)

    @property
    def theirs_only(self):
        return self.base is not None and self.saved != self.base and self.yours == self.base

    @property
    def yours_only(self):
        return self.base is not None and self.yours != self.base and self.saved == self.base

    @property
    def merged(self):
        """What the section says after the merge when it is no conflict: the editor's change over the saved text."""
        return self.yours if self.base is not None and self.yours != self.base else self.saved

    @property
    def draft(self):
        """A start for merging by hand: the lines of both texts, the saved ones before the editor's where they
        differ."""
        lines = []
        for line in difflib.ndiff(self.saved.splitlines(), self.yours.splitlines()):
            if line[:2] != "? ":
                lines.append(line[2:])
        return "\n".join(lines)


def merge_sections(base, saved, yours):
    """The card's sections, each with its three texts (``base`` None: the revision started from is unknown)."""
    return [
        Section(name, None if base is None else base.get(name, ""), saved.get(name, ""), yours.get(name, ""))
        for name in ModelCard.TEXT_FIELDS
    ]


class Unresolved(Exception):
    """Someone saved sections the editor changed too (``sections``: every section, see ``Section.conflict``);
    ``revision`` is their change, ``started_from`` the revision the editor opened."""

    def __init__(self, revision, sections, started_from):
        self.revision, self.sections, self.started_from = revision, sections, started_from
        super().__init__(f"{len(self.conflicts)} sections were changed by you and by someone else.")

    @property
    def conflicts(self):
        return [section for section in self.sections if section.conflict]


def save_merging(card, changes, by, base_revision, attempts=3):
    """Save ``changes`` (every section, as the editor sent it) made on top of ``base_revision``.

    When others saved meanwhile, only the sections the editor changed since ``base_revision`` are applied: the
    sections only the others changed keep their text. Sections both changed raise ``Unresolved``, so nothing anyone
    saved is undone without the editor choosing it. Returns ``(revision or None, labels of the sections the others
    changed that were kept)``.
    """
    kept = []
    for attempt in range(attempts):
        try:
            return card.edit(changes, by, base_revision), kept
        except CardEditConflict as exc:
            sections = merge_sections(card.snapshot_at(base_revision), exc.revision.snapshot, changes)
            if attempt == attempts - 1 or any(section.conflict for section in sections):
                raise Unresolved(exc.revision, sections, base_revision) from None
            kept += [section.label for section in sections if section.theirs_only and section.label not in kept]
            changes = {section.name: section.merged for section in sections}
            base_revision = exc.revision.number
    raise AssertionError("unreachable")  # pragma: no cover
