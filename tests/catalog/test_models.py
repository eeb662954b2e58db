from datetime import date

import pytest
from django.core.exceptions import ValidationError

from catalog.assets import free_slug
from catalog.choices import AssetKind, RetentionAction, SourceKind
from catalog.models import NamingConvention
from tests import factories


@pytest.mark.django_db
def test_a_retention_rule_is_days_or_a_date_and_says_what_happens_then():
    dataset = factories.dataset("Orders")
    dataset.retention_days, dataset.retain_until = 30, date(2030, 1, 1)
    with pytest.raises(ValidationError) as error:
        dataset.full_clean()
    assert "retain_until" in error.value.message_dict
    assert "retention_action" in error.value.message_dict

    dataset.retain_until = None
    dataset.retention_action = RetentionAction.DELETE
    dataset.full_clean()
    assert dataset.retention_rule == "Kept for 30 days, then deleted."


@pytest.mark.django_db
def test_zero_days_and_an_action_without_a_rule_are_refused():
    dataset = factories.dataset("Orders")
    dataset.retention_days, dataset.retention_action = 0, RetentionAction.ARCHIVE
    with pytest.raises(ValidationError, match="zero days"):
        dataset.full_clean()
    dataset.retention_days = None
    with pytest.raises(ValidationError, match="number of days or a date first"):
        dataset.full_clean()


@pytest.mark.django_db
def test_a_qualified_name_cannot_climb_out_of_its_source():
    dataset = factories.dataset("Orders")
    dataset.qualified_name = "finance/../../etc/passwd"
    with pytest.raises(ValidationError, match="climb out"):
        dataset.full_clean()


@pytest.mark.django_db
def test_a_qualified_name_is_unique_within_its_source_only():
    first = factories.dataset("Orders", qualified_name="sales.orders")
    duplicate = factories.dataset("Orders copy", qualified_name="elsewhere")
    duplicate.source, duplicate.qualified_name = first.source, "sales.orders"
    with pytest.raises(ValidationError):
        duplicate.full_clean()
    other_source = factories.dataset("Orders in CRM", qualified_name="sales.orders")
    other_source.full_clean()


@pytest.mark.django_db
def test_a_source_never_stores_a_secret_and_names_its_variable_properly():
    source = factories.source("Warehouse", SourceKind.POSTGRESQL, {"host": "db", "Password": "hunter2"})
    with pytest.raises(ValidationError, match="Do not store secrets"):
        source.full_clean()
    source.connection = {"host": "db"}
    source.secret_env_var = "WAREHOUSE PASSWORD"
    with pytest.raises(ValidationError, match="letters, digits and underscores"):
        source.full_clean()
    # A source may not name the portal's own settings: the worker would send them to the source's host.
    source.secret_env_var = "DATABASE_URL"
    with pytest.raises(ValidationError, match="PORTAL_SECRET_"):
        source.full_clean()
    # A well-named variable is still refused until staff bind it to this source (and its host allowed).
    source.secret_env_var = "PORTAL_SECRET_WAREHOUSE"
    with pytest.raises(ValidationError, match="not bound to this source"):
        source.full_clean()
    factories.allowed_host("db", 5432)
    factories.bound_secret("PORTAL_SECRET_WAREHOUSE", source)
    source.full_clean()


def test_only_prefixed_variables_are_ever_read_as_source_secrets(monkeypatch):
    from catalog.models import source_secret

    monkeypatch.setenv("PORTAL_SECRET_WAREHOUSE", "s3cret")
    assert source_secret("PORTAL_SECRET_WAREHOUSE") == "s3cret"
    assert source_secret("SECRET_KEY") is None
    assert source_secret("") is None


@pytest.mark.django_db
def test_a_name_of_spaces_and_a_zero_review_interval_are_refused():
    asset = factories.asset(AssetKind.REPORT, "Sales")
    asset.name = "   "
    with pytest.raises(ValidationError):
        asset.full_clean()
    asset.name, asset.review_interval_days = "Sales", 0
    with pytest.raises(ValidationError, match="at least one day"):
        asset.full_clean()


@pytest.mark.django_db
def test_free_slug_adds_a_number_when_the_name_is_taken():
    factories.asset(AssetKind.DATASET, "Orders")
    factories.asset(AssetKind.DATASET, "Orders 2", slug="orders-2")
    assert free_slug(AssetKind.DATASET, "Orders") == "orders-3"
    assert free_slug(AssetKind.REPORT, "Orders") == "orders"


@pytest.mark.django_db
def test_a_naming_convention_needs_a_valid_pattern_and_matches_whole_names():
    broken = NamingConvention(kind=AssetKind.DATASET, pattern="[a-z", explanation="lower case")
    with pytest.raises(ValidationError, match="not a valid regular expression"):
        broken.full_clean()
    rule = NamingConvention.objects.create(kind=AssetKind.DATASET, pattern="[a-z_]+", explanation="snake case")
    asset = factories.asset(AssetKind.DATASET, "Daily sales")
    assert asset.naming_violations([rule]) == [rule]
    asset.name = "daily_sales"
    assert asset.naming_violations([rule]) == []
