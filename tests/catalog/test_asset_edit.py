import pytest

from catalog.choices import AssetKind, Classification
from catalog.models import Asset, AssetChange, Dataset
from tests import factories


def _dataset_form(source, **overrides):
    data = {
        "name": "Daily sales",
        "description": "Revenue **per day**.",
        "owner": "",
        "team": "",
        "lifecycle": "active",
        "tags_text": "Sales, gold, sales",
        "detail-source": source.pk,
        "detail-qualified_name": "sales.daily",
        "detail-format": "table",
        "detail-classification": "internal",
    }
    data.update(overrides)
    return data


@pytest.fixture
def source(owner, team):
    return factories.source("Warehouse", owner=owner, team=team)


@pytest.mark.django_db
def test_anyone_signed_in_can_add_a_dataset_to_a_source_of_theirs_and_its_creation_is_recorded(client_for, outsider):
    # Into a source she may edit: someone else's is refused (tests/catalog/test_source_security.py).
    hers = factories.source("Her warehouse", owner=outsider)
    response = client_for(outsider).post("/catalog/new/dataset/", _dataset_form(hers, owner=outsider.pk))
    dataset = Dataset.objects.get(qualified_name="sales.daily")
    assert response.status_code == 302 and response["Location"] == "/catalog/dataset/daily-sales/"
    assert dataset.asset.owner == outsider
    assert sorted(dataset.asset.tags.values_list("name", flat=True)) == ["gold", "sales"]
    assert AssetChange.objects.get(asset=dataset.asset).action == "created"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"name": "x" * 201}, "name", "at most 200 characters"),
        ({"detail-qualified_name": ""}, "qualified_name", "This field is required."),
        ({"detail-retention_days": "30"}, "retention_action", "Say what happens"),
        ({"detail-documentation_url": "not a link"}, "documentation_url", "Enter a valid URL."),
    ],
)
def test_bad_input_is_shown_next_to_its_field_and_what_was_typed_stays(
    client_for, owner, source, overrides, field, message
):
    response = client_for(owner).post("/catalog/new/dataset/", _dataset_form(source, **overrides))
    assert response.status_code == 200
    forms = [response.context["asset_form"], response.context["detail_form"]]
    errors = {name: " ".join(errs) for form in forms for name, errs in form.errors.items()}
    assert message in errors[field]
    assert "Revenue **per day**." in response.content.decode()
    assert not Dataset.objects.filter(asset__name="Daily sales").exists()


@pytest.mark.django_db
def test_a_duplicate_qualified_name_in_the_same_source_is_refused(client_for, owner, source):
    factories.dataset("Existing", source_=source, qualified_name="sales.daily")
    response = client_for(owner).post("/catalog/new/dataset/", _dataset_form(source))
    assert response.status_code == 200
    assert "already exists" in str(response.context["detail_form"].errors)
    assert Dataset.objects.filter(qualified_name="sales.daily").count() == 1


@pytest.mark.django_db
def test_the_outsider_can_neither_edit_nor_delete_and_nothing_changes(client_for, outsider, owner, source):
    dataset = factories.dataset("Orders", source_=source, owner=owner)
    client = client_for(outsider)
    assert client.get("/catalog/dataset/orders/edit/").status_code == 403
    form = _dataset_form(source, name="Hacked", **{"detail-qualified_name": dataset.qualified_name})
    assert client.post("/catalog/dataset/orders/edit/", form).status_code == 403
    assert client.post("/catalog/dataset/orders/delete/").status_code == 403
    assert Asset.objects.get(pk=dataset.pk).name == "Orders"
    assert not AssetChange.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["owner", "teammate", "staff"])
def test_owner_team_and_staff_can_edit_and_the_history_says_who_changed_what(request, client_for, source, who):
    person = request.getfixturevalue(who)
    dataset = factories.dataset(
        "Orders", source_=source, owner=request.getfixturevalue("owner"), team=source.asset.team
    )
    client = client_for(person)
    page = client.get("/catalog/dataset/orders/edit/")
    form = page.context["asset_form"]
    data = _dataset_form(
        source,
        name="Orders",
        owner=dataset.asset.owner_id,
        team=dataset.asset.team_id,
        version=form["version"].value(),
        **{"detail-qualified_name": dataset.qualified_name, "detail-classification": "confidential"},
    )
    assert client.post("/catalog/dataset/orders/edit/", data).status_code == 302
    dataset.refresh_from_db()
    assert dataset.classification == Classification.CONFIDENTIAL
    change = AssetChange.objects.get(asset_id=dataset.pk)
    assert change.actor == person
    assert change.changes["classification"] == ["Internal", "Confidential"]
    assert change.changes["description"] == ["", "Revenue **per day**."]
    history = client.get("/catalog/dataset/orders/history/").content.decode()  # the History tab (issue 17)
    assert f"by {person.username}" in history and "Confidential" in history


@pytest.mark.django_db
def test_a_concurrent_edit_is_refused_not_overwritten(client_for, owner, teammate, source):
    dataset = factories.dataset("Orders", source_=source, owner=owner, team=source.asset.team)
    first, second = client_for(owner), client_for(teammate)
    version = first.get("/catalog/dataset/orders/edit/").context["asset_form"]["version"].value()
    common = {"owner": owner.pk, "detail-qualified_name": dataset.qualified_name}
    assert (
        second.post(
            "/catalog/dataset/orders/edit/",
            _dataset_form(source, name="Orders", version=version, description="Tom's", **common),
        ).status_code
        == 302
    )
    response = first.post(
        "/catalog/dataset/orders/edit/",
        _dataset_form(source, name="Orders", version=version, description="Olivia's", **common),
    )
    assert response.status_code == 200
    assert "Someone else saved this asset" in response.content.decode()
    assert "Olivia&#x27;s" in response.content.decode()
    assert Asset.objects.get(pk=dataset.pk).description == "Tom's"


@pytest.mark.django_db
def test_the_owner_deletes_and_a_source_with_datasets_is_kept(client_for, owner, source):
    factories.dataset("Orders", source_=source, owner=owner)
    client = client_for(owner)
    assert "depend" not in client.get("/catalog/dataset/orders/delete/").content.decode()
    client.post(f"/catalog/source/{source.asset.slug}/delete/")
    assert Asset.objects.filter(pk=source.pk).exists()
    assert client.post("/catalog/dataset/orders/delete/").status_code == 302
    assert not Asset.objects.filter(kind=AssetKind.DATASET).exists()


@pytest.mark.django_db
def test_models_are_not_edited_here(client_for, staff):
    model = factories.registered_model("Churn")
    assert client_for(staff).get(f"/catalog/model/{model.asset.slug}/edit/").status_code == 404
    assert client_for(staff).get("/catalog/new/model/").status_code == 404
