"""The pictures in docs/, taken from the demo company in Chromium: `bin/screenshots` refreshes them all.

Skipped in the normal suite (it would rewrite tracked files); `bin/screenshots` sets PORTAL_SCREENSHOTS=1.
"""

import io
import os
from pathlib import Path

import pytest
from django.core.management import call_command

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("PORTAL_SCREENSHOTS"), reason="run by bin/screenshots"),
]

DOCS = Path(__file__).resolve().parents[2] / "docs"

# (file name, path, what it shows): the README links each one.
PICTURES = [
    ("screenshot-home.png", "/", "The home page"),
    ("screenshot-report.png", "/catalog/report/executive-sales/", "A report: header, badge, freshness in words"),
    ("screenshot-dataset-columns.png", "/catalog/dataset/orders/columns/", "A dataset's Columns tab"),
    ("screenshot-lineage.png", "/catalog/dataset/orders/lineage/", "The Lineage tab: graph and impact"),
    ("screenshot-model.png", "/models/churn-predictor/", "A model's card"),
    ("screenshot-version.png", "/models/churn-predictor/versions/1/", "The promotion stepper"),
    ("screenshot-card-editor.png", "/models/churn-predictor/card/edit/", "The one card editor"),
    ("screenshot-inbox.png", "/inbox/", "The inbox, grouped"),
    ("screenshot-glossary.png", "/glossary/", "The glossary"),
]


def test_refresh_the_screenshots(page, live_server, sign_in, settings, tmp_path):
    from django.contrib.auth import get_user_model

    from catalog.models import Asset
    from glossary.models import Term

    settings.DATA_ROOT = tmp_path
    call_command("load_demo", stdout=io.StringIO())
    bob = get_user_model().objects.get(username="bob")
    term = Term.objects.create(
        name="Target attainment",
        definition="Revenue of the period divided by its **target**, in percent.",
        synonyms="attainment\nvs target",
        owner=bob,
    )
    term.assets.add(Asset.objects.get(slug="executive-sales"))
    from registry.models import RegisteredModel

    churn_owner = RegisteredModel.objects.get(asset__slug="churn-predictor").asset.owner
    page.set_viewport_size({"width": 1280, "height": 900})
    for name, path, _ in PICTURES:
        # The card editor is its owner's; everything else as alice sees it.
        sign_in(page, churn_owner if "card/edit" in path else get_user_model().objects.get(username="alice"))
        page.goto(f"{live_server.url}{path}")
        page.screenshot(path=str(DOCS / name), full_page=False)
