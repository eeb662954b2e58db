"""The bulk badge helpers the catalog list, search and lineage templates use (wired at merge)."""

import pytest
from django.template import Context, Template

from tests import factories
from tests.helpers import count_queries

pytestmark = pytest.mark.django_db

LIST = Template(
    "{% load trust_tags %}{% trust_badges assets as badges %}"
    "{% for asset in assets %}<li>{{ asset.name }} "
    '{% include "trust/partials/badge.html" with badge=badges|badge_of:asset %}</li>{% endfor %}'
)


def test_a_list_template_shows_each_rows_badge_with_its_reason_as_a_tooltip(owner, outsider):
    fine = factories.dataset("Orders", owner=owner).asset
    broken = factories.dataset("Stores", owner=owner).asset
    factories.data_issue(broken, outsider, severity="critical", title="Empty")
    html = LIST.render(Context({"assets": [fine, broken]}))
    # Issue 15: undocumented reads Unknown (not assessed).
    assert 'class="trust-badge trust-unknown" title="Not assessed: its documentation is missing' in html
    assert 'class="trust-badge trust-do_not_use" title="1 critical issue open on it (Empty)."' in html


def test_a_list_costs_the_same_queries_for_a_few_rows_as_for_many(owner):
    def render(count):
        assets = [factories.dataset(f"Set {count} {index}", owner=owner).asset for index in range(count)]
        with count_queries() as captured:
            LIST.render(Context({"assets": assets}))
        return len(captured)

    assert render(2) == render(50)
