"""The maturity list (``/mlops/``): every model's level as its monitoring page works it out, filtered by level, read
in a fixed number of queries (pinned in tests/test_query_counts.py)."""

import re

import pytest

from mlops.maturity import LEVELS, maturity, with_facts
from registry.models import RegisteredModel
from tests import factories
from tests.mlops.helpers import model_at_level

pytestmark = pytest.mark.django_db


@pytest.fixture
def models(owner, team):
    """A model at each level, and one more at level 4 whose CI/CD is its team's webhook."""
    training = factories.dataset("Training set", owner=owner, team=team)
    made = {f"Level {level}": model_at_level(f"Level {level}", level, owner=owner, team=team, training=training)
            for level in LEVELS}  # fmt: skip
    hooked = factories.team("Deployers")
    made["Hooked"] = model_at_level("Hooked", 4, owner=owner, team=hooked, training=training, cicd="hook")
    return made


def _rows(page):
    """``{model name: (level cell, missing cell)}`` as the table shows them."""
    table = page.split('data-testid="maturity"', 1)[1].split("</table>", 1)[0]
    cells = re.findall(r"<tr><td><a [^>]*>([^<]+)</a></td><td>([^<]+)</td><td>([^<]*)</td></tr>", table)
    return {name: (level, missing) for name, level, missing in cells}


def test_the_list_shows_each_model_s_level_and_what_the_next_one_needs(models, owner, client_for):
    rows = _rows(client_for(owner).get("/mlops/").content.decode())
    assert rows == {
        "Hooked": ("4: Monitored, with CI/CD and champion/challenger", "level 5: retraining on drift"),
        "Level 1": ("1: Manual", "level 2: code in version control (checklist link), training data catalogued"),
        "Level 2": (
            "2: Tracked and reproducible",
            "level 3: automated training (portal or MLflow), versions in the registry with metrics",
        ),
        "Level 3": (
            "3: Automated training and registry",
            "level 4: predictions monitored, CI/CD hook (team webhook or MLflow alias), champion and challenger",
        ),
        "Level 4": ("4: Monitored, with CI/CD and champion/challenger", "level 5: retraining on drift"),
        "Level 5": ("5: Retraining triggered by monitoring", "—"),
    }


def test_the_list_works_it_out_as_each_model_s_own_page_does(models):
    """One computation: the list's models, read together, get what each model read alone gets."""
    together = {model.asset.name: maturity(model) for model in with_facts(RegisteredModel.objects.by_name())}
    alone = {name: maturity(RegisteredModel.objects.get(pk=model.pk)) for name, model in models.items()}
    assert together == alone
    assert [level for level, _ in together.values()] == [4, 1, 2, 3, 4, 5]


@pytest.mark.parametrize(("level", "names"), [("4", {"Hooked", "Level 4"}), ("1", {"Level 1"}), ("5", {"Level 5"})])
def test_the_filter_keeps_one_level(models, owner, client_for, level, names):
    page = client_for(owner).get(f"/mlops/?level={level}").content.decode()
    assert set(_rows(page)) == names
    assert f'<option value="{level}" selected>' in page


def test_a_level_without_models_says_so(owner, client_for):
    model_at_level("Level 1", 1, owner=owner, team=None, training=None)
    page = client_for(owner).get("/mlops/?level=3").content.decode()
    assert _rows(page) == {} and "No model at this level." in page
