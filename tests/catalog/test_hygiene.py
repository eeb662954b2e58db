import pytest

from catalog.choices import AssetKind
from catalog.models import NamingConvention
from tests import factories


@pytest.mark.django_db
def test_the_hygiene_page_lists_missing_owners_descriptions_review_dates_and_bad_names(client_for, outsider, owner):
    NamingConvention.objects.create(
        kind=AssetKind.DATASET, pattern="[A-Z][a-z ]*", explanation="Plain words starting with a capital."
    )
    factories.dataset("orders_raw", owner=owner, description="Raw.")
    factories.dataset("Nobody owns this", description="Orphan.")
    factories.report("Sales", owner=owner)
    response = client_for(outsider).get("/catalog/hygiene/")
    html = response.content.decode()
    assert [asset.name for asset, _ in response.context["misnamed"]] == ["orders_raw"]
    assert "Plain words starting with a capital." in html
    missing = {asset.name for asset in response.context["page"]}
    assert {"Nobody owns this", "Sales", "orders_raw"} <= missing
    assert response.context["counts"]["no_owner"] >= 1


@pytest.mark.django_db
def test_only_staff_define_naming_conventions_and_bad_patterns_are_explained(client_for, outsider, staff):
    data = {"kind": "dataset", "pattern": "[a-z_]+", "explanation": "snake_case"}
    assert client_for(outsider).post("/catalog/conventions/", data).status_code == 403
    assert not NamingConvention.objects.exists()
    response = client_for(staff).post("/catalog/conventions/", {**data, "pattern": "[a-z"})
    assert "not a valid regular expression" in response.content.decode()
    assert 'value="snake_case"' in response.content.decode() or "snake_case</textarea>" in response.content.decode()
    client_for(staff).post("/catalog/conventions/", data)
    convention = NamingConvention.objects.get()
    assert convention.created_by == staff
    client_for(staff).post("/catalog/conventions/", {"delete": convention.pk})
    assert not NamingConvention.objects.exists()
