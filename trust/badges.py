"""Badges: the rules' verdicts for an asset, ready for a page, a list row, the API or an embedded image."""

from dataclasses import dataclass
from xml.sax.saxutils import escape

from trust.choices import TrustLevel
from trust.facts import facts_for
from trust.rules import SEVERITY, evaluate

COLOURS = {
    TrustLevel.TRUSTED: "#1e7e34",
    TrustLevel.CAUTION: "#b36b00",
    TrustLevel.DO_NOT_USE: "#b02a37",
    TrustLevel.UNKNOWN: "#6c757d",
}


@dataclass(frozen=True)
class Badge:
    level: str
    verdicts: tuple

    @property
    def label(self):
        return TrustLevel(self.level).label

    @property
    def colour(self):
        return COLOURS[self.level]

    @property
    def reasons(self):
        """The verdicts that kept the badge from Trusted, worst first; all of them when it is Trusted."""
        failing = [verdict for verdict in self.verdicts if not verdict.passed]
        return sorted(failing, key=lambda verdict: SEVERITY.index(verdict.level)) if failing else list(self.verdicts)

    @property
    def summary(self):
        """The one sentence shown next to the badge in a list."""
        if self.level == TrustLevel.TRUSTED:
            return "Every trust rule is met."
        return self.reasons[0].reason

    def as_dict(self, detailed=True):
        """The JSON form. Without ``detailed`` only rule titles and levels: no names of people or other assets."""
        rules = []
        for verdict in self.verdicts:
            item = {"rule": verdict.rule, "title": verdict.title, "level": verdict.level, "passed": verdict.passed}
            if detailed:
                item["reason"] = verdict.reason
            rules.append(item)
        return {"level": self.level, "label": self.label, "rules": rules}


def badges_for(assets, today=None):
    """``{asset_id: Badge}`` for many assets in a fixed number of queries (see ``trust.facts``)."""
    badges = {}
    for pk, facts in facts_for(assets, today=today).items():
        level, verdicts = evaluate(facts)
        badges[pk] = Badge(level, tuple(verdicts))
    return badges


def badge_for(asset, today=None):
    return badges_for([asset], today=today)[asset.pk]


def _text_width(text):
    # Verdana at 11px averages about 6.5px per character: close enough for a badge, no font metrics needed.
    return int(len(text) * 6.5) + 10


def render_svg(badge, subject="trust"):
    """A shields.io-style badge: grey subject on the left, the level in its colour on the right."""
    left, right = escape(subject), escape(badge.label)
    left_width, right_width = _text_width(subject), _text_width(badge.label)
    width = left_width + right_width
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="20" role="img" '
        f'aria-label="{left}: {right}"><title>{left}: {right}</title>'
        f'<rect width="{left_width}" height="20" fill="#555"/>'
        f'<rect x="{left_width}" width="{right_width}" height="20" fill="{badge.colour}"/>'
        f'<g fill="#fff" text-anchor="middle" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">'
        f'<text x="{left_width / 2}" y="14">{left}</text>'
        f'<text x="{left_width + right_width / 2}" y="14">{right}</text></g></svg>'
    )
