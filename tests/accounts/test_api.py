import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import PASSWORD, CreationFactory

pytestmark = pytest.mark.django_db


def test_token_for_username_or_email(member):
    client = APIClient()
    by_name = client.post("/api/v1/auth/token/", {"username": "member", "password": PASSWORD})
    by_email = client.post(
        "/api/v1/auth/token/", {"username": "MEMBER@example.com", "password": PASSWORD}
    )
    assert by_name.status_code == by_email.status_code == 200
    assert by_name.json() == by_email.json() == {"token": Token.objects.get(user=member).key}


def test_token_works_for_writes(member):
    key = (
        APIClient()
        .post("/api/v1/auth/token/", {"username": "member", "password": PASSWORD})
        .json()["token"]
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/users/me/").json()["email"] == "member@example.com"


def test_wrong_password_is_a_400_without_a_token(member):
    response = APIClient().post("/api/v1/auth/token/", {"username": "member", "password": "x"})
    assert response.status_code == 400
    assert "non_field_errors" in response.json()
    assert not Token.objects.exists()


def test_token_log_in_is_limited_per_username(member):
    for attempt in range(10):
        APIClient().post(
            "/api/v1/auth/token/",
            {"username": "Member", "password": "x"},
            REMOTE_ADDR=f"10.1.0.{attempt}",
        )
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "member", "password": PASSWORD}, REMOTE_ADDR="10.2.0.1"
    )
    assert response.status_code == 429 and int(response["Retry-After"]) >= 1


def test_invalid_token_is_a_401():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get("/api/v1/creations/").status_code == 401


def test_public_profile(owner):
    CreationFactory.create_batch(2, owner=owner)
    CreationFactory(owner=owner, status="hidden")
    data = APIClient().get(f"/api/v1/users/{owner.username}/").json()
    assert set(data) == {"username", "display_name", "bio", "date_joined", "creation_count"}
    assert data["creation_count"] == 2


def test_unknown_or_inactive_user_is_404(member):
    assert APIClient().get("/api/v1/users/nobody/").status_code == 404
    member.is_active = False
    member.save()
    assert APIClient().get("/api/v1/users/member/").status_code == 404


def test_patch_me_changes_profile_and_validates_email(member, other_member):
    client = APIClient()
    client.force_authenticate(member)
    response = client.patch("/api/v1/users/me/", {"display_name": "Brick Fan", "bio": "Hinges"})
    assert response.status_code == 200
    assert response.json()["display_name"] == "Brick Fan"
    taken = client.patch("/api/v1/users/me/", {"email": other_member.email.upper()})
    assert taken.status_code == 400 and "already exists" in taken.json()["email"][0]
    bad = client.patch("/api/v1/users/me/", {"email": "not-an-email"})
    assert bad.status_code == 400
    ignored = client.patch("/api/v1/users/me/", {"username": "hijack"})
    assert ignored.json()["username"] == "member"
    member.refresh_from_db()
    assert (member.display_name, member.email) == ("Brick Fan", "member@example.com")
