from types import SimpleNamespace

import pytest

from trust import facts


@pytest.fixture
def freshness(monkeypatch):
    """Stands in for monitoring's freshness (wired at merge): ``freshness[asset_id] = "fresh"`` sets a status."""
    statuses = {}

    def by_asset(asset_ids):
        return {
            pk: SimpleNamespace(status=statuses[pk], reason="", held_back_by=None) for pk in asset_ids if pk in statuses
        }

    monkeypatch.setattr(facts, "_freshness_by_asset", by_asset)
    return statuses


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """The personas get real passwords; hashing them at full strength would dominate these tests' time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
