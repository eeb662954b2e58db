"""The promotion stepper of a version page (issue 17): under development → in validation → checklist → request →
approval → in use, with the step the version is at, what is missing for the next one and the next action.

Computed from what the page already read (the checklist, the blockers, the pending request): no query of its own.
"""

from dataclasses import dataclass, field

from registry.choices import Stage

STEPS = [
    ("development", "Under development"),
    ("validation", "In validation"),
    ("checklist", "Checklist"),
    ("request", "Request"),
    ("approval", "Approval"),
    ("in_use", "In use"),
]


@dataclass(frozen=True)
class Stepper:
    current: str  # one of STEPS' names; "retired" for a retired version
    missing: list = field(default_factory=list)

    @property
    def steps(self):
        """``[(name, label, state)]`` with state "done", "current" or "todo"."""
        names = [name for name, _ in STEPS]
        at = names.index(self.current) if self.current in names else -1
        return [
            (name, label, "done" if index < at else "current" if index == at else "todo")
            for index, (name, label) in enumerate(STEPS)
        ]

    @property
    def current_label(self):
        return dict(STEPS).get(self.current, "Retired")


def stepper_for(version, checklist, blockers, pending):
    """Where ``version`` is on its way into use and what it still lacks for the next step."""
    if version.stage == Stage.ARCHIVED:
        return Stepper("retired")
    if version.stage == Stage.PRODUCTION:
        return Stepper("in_use")
    if version.stage == Stage.DEVELOPMENT:
        return Stepper("development", ["The version must be moved to validation: its tests and reviews start there."])
    if pending is not None:
        return Stepper("approval", ["A second person must approve the request."])
    unticked = [item.label for item, tick in checklist if tick is None]
    if unticked:
        return Stepper("checklist", unticked)
    # Past the checklist, what still blocks a request is the card (its completeness), said as the model says it.
    card = [blocker for blocker in blockers if not blocker.startswith(("checklist:", "the version"))]
    return Stepper("request", card)
