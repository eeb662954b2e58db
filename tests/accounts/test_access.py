import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import ApiToken
from tests import factories

PAGES = ["home", "catalog:asset_list", "catalog:report_list", "registry:model_list", "monitoring:index",
         "trust:issue_list", "core:inbox", "accounts:profile", "search:results"]  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize("name", PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.django_db
@pytest.mark.parametrize("name", PAGES)
def test_signed_in_people_see_every_top_level_page(client_for, outsider, name):
    assert client_for(outsider).get(reverse(name)).status_code == 200


@pytest.mark.django_db
def test_sign_in_with_the_form_and_a_wrong_password(client, owner):
    response = client.post(reverse("accounts:login"), {"username": "olivia", "password": "wrong"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    response = client.post(reverse("accounts:login"), {"username": "olivia", "password": factories.PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200


@pytest.mark.django_db
def test_the_api_answers_anonymous_callers_with_json_401():
    response = APIClient().get("/api/v1/assets/")
    assert response.status_code == 401
    assert response.json()["detail"]


@pytest.mark.django_db
@pytest.mark.parametrize("keyword", ["Bearer", "Token"])
def test_api_tokens_work_with_both_header_keywords(owner, keyword):
    _, key = ApiToken.issue(owner, "ci")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{keyword} {key}")
    response = client.get("/api/v1/me/")
    assert response.status_code == 200
    assert response.json()["username"] == "olivia"


@pytest.mark.django_db
def test_a_revoked_or_unknown_token_is_refused(owner):
    token, key = ApiToken.issue(owner, "ci")
    token.revoke()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get("/api/v1/me/").status_code == 401
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    response = client.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json() == {"detail": "This API token is unknown or revoked."}


@pytest.mark.django_db
def test_only_the_hash_of_a_token_is_stored(owner):
    token, key = ApiToken.issue(owner, "ci")
    token.refresh_from_db()
    assert key not in (token.key_hash, token.prefix)
    assert token.prefix == key[:8]


@pytest.mark.django_db
def test_profile_creates_a_token_shows_it_once_and_revokes_it(client_for, owner):
    client = client_for(owner)
    client.post(reverse("accounts:token_create"), {"name": "airflow lineage"})
    first = client.get(reverse("accounts:profile")).content.decode()
    token = ApiToken.objects.get(user=owner)
    assert 'data-testid="new-token"' in first
    assert 'data-testid="new-token"' not in client.get(reverse("accounts:profile")).content.decode()
    client.post(reverse("accounts:token_revoke", args=[token.pk]))
    token.refresh_from_db()
    assert token.revoked_at is not None


@pytest.mark.django_db
def test_nobody_revokes_someone_elses_token(client_for, owner, outsider):
    token, _ = ApiToken.issue(owner, "ci")
    assert client_for(outsider).post(reverse("accounts:token_revoke", args=[token.pk])).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


@pytest.mark.django_db
def test_create_token_command_prints_a_working_token(capsys, staff):
    call_command("create_token", "stella", "--name", "openlineage")
    key = capsys.readouterr().out.strip()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get("/api/v1/me/").json()["username"] == "stella"


@pytest.mark.django_db
def test_profile_lists_what_i_own_what_my_team_owns_and_what_i_watch(client_for, owner, teammate, team):
    from catalog.models import Watch

    factories.dataset("Mine", owner=owner)
    factories.dataset("Team thing", owner=teammate, team=team)
    watched = factories.dataset("Somebody else's", owner=factories.user("zed"))
    Watch.objects.create(user=owner, asset=watched.asset)
    page = client_for(owner).get(reverse("accounts:profile")).content.decode()
    assert "Mine" in page and "Team thing" in page and "Somebody else&#x27;s" in page


@pytest.mark.django_db
def test_staff_mint_a_service_account_token_in_the_admin(client_for, staff):
    robot = factories.user("airflow-bot")
    response = client_for(staff).post(
        "/admin/accounts/apitoken/add/", {"user": robot.pk, "name": "lineage"}, follow=True
    )
    shown = [str(message) for message in response.context["messages"]]
    key = next(text.split(": ")[1].split(" ")[0] for text in shown if text.startswith("Token for airflow-bot"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get("/api/v1/me/").json()["username"] == "airflow-bot"
    assert ApiToken.objects.filter(user=robot).count() == 1


@pytest.mark.django_db
def test_people_who_are_not_staff_cannot_reach_the_admin(client_for, outsider):
    response = client_for(outsider).get("/admin/accounts/apitoken/add/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
