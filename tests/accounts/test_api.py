import json
import re

import pytest
from django.core import mail
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.conftest import client_for
from tests.factories import PASSWORD, CreationFactory, UserFactory

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


def test_patch_me_changes_profile_and_ignores_read_only_fields(member):
    client = client_for(member)
    response = client.patch("/api/v1/users/me/", {"display_name": "Brick Fan", "bio": "Hinges"})
    assert response.status_code == 200
    assert response.json()["display_name"] == "Brick Fan"
    ignored = client.patch("/api/v1/users/me/", {"username": "hijack"})
    assert ignored.json()["username"] == "member"
    member.refresh_from_db()
    assert (member.display_name, member.bio) == ("Brick Fan", "Hinges")


@pytest.mark.parametrize(
    "field, value",
    [
        ("display_name", "\u202eexe.gnp"),
        ("display_name", "two\nlines"),
        ("bio", "bell \x07"),
        ("bio", "lone \ud800"),
    ],
)
def test_patch_me_refuses_control_and_bidi_characters_naming_the_field(member, field, value):
    body = json.dumps({field: value})  # escapes the lone surrogate, as a hostile client would
    response = client_for(member).generic(
        "PATCH", "/api/v1/users/me/", body, content_type="application/json"
    )
    assert response.status_code == 400 and field in response.json()
    member.refresh_from_db()
    assert getattr(member, field) != value


def test_patch_me_keeps_line_breaks_in_the_bio(member):
    response = client_for(member).patch("/api/v1/users/me/", {"bio": "Hinges\nand clips"})
    assert response.status_code == 200 and response.json()["bio"] == "Hinges\nand clips"


def test_patch_me_email_needs_the_current_password(member):
    client = client_for(member)
    missing = client.patch("/api/v1/users/me/", {"email": "fan@example.com"})
    assert missing.status_code == 400 and "current_password" in missing.json()
    wrong = client.patch(
        "/api/v1/users/me/", {"email": "fan@example.com", "current_password": "nope"}
    )
    assert wrong.status_code == 400 and "current_password" in wrong.json()
    bad = client.patch("/api/v1/users/me/", {"email": "not-an-email", "current_password": PASSWORD})
    assert bad.status_code == 400 and "email" in bad.json()
    assert mail.outbox == []
    # Sending the address you already have needs no password.
    same = client.patch("/api/v1/users/me/", {"email": "member@example.com", "bio": "Hi"})
    assert same.status_code == 200


def test_patch_me_email_changes_once_the_mailed_link_is_opened(member, client):
    response = client_for(member).patch(
        "/api/v1/users/me/", {"email": "fan@example.com", "current_password": PASSWORD}
    )
    assert response.status_code == 200 and response.json()["email"] == "member@example.com"
    assert "current_password" not in response.json()
    assert mail.outbox[0].to == ["fan@example.com"]
    link = re.search(r"https?://testserver(/accounts/email/confirm/\S+/)", mail.outbox[0].body)
    client.post(link.group(1))
    member.refresh_from_db()
    assert member.email == "fan@example.com"


def test_patch_me_answers_the_same_for_a_taken_and_a_free_address(member, other_member):
    client = client_for(member)

    def attempt(email):
        mail.outbox.clear()
        response = client.patch("/api/v1/users/me/", {"email": email, "current_password": PASSWORD})
        return response.status_code, response.json(), len(mail.outbox)

    assert attempt(other_member.email.upper()) == attempt("free@example.com")
    assert attempt("free@example.com")[:2] == (200, client.get("/api/v1/users/me/").json())
    member.refresh_from_db()
    assert member.email == "member@example.com"


def test_patch_me_never_answers_500_when_the_address_is_taken_at_the_last_moment(
    member, other_member, client
):
    client_for(member).patch(
        "/api/v1/users/me/", {"email": "fan@example.com", "current_password": PASSWORD}
    )
    link = re.search(r"https?://testserver(/accounts/email/confirm/\S+/)", mail.outbox[0].body)
    other_member.email = "FAN@example.com"
    other_member.save()
    response = client.post(link.group(1))
    assert response.status_code == 200 and "already exists" in response.context["problem"]


def test_patch_me_email_change_is_limited_with_retry_after(member):
    client = client_for(member)
    for attempt in range(5):
        response = client.patch(
            "/api/v1/users/me/",
            {"email": f"probe{attempt}@example.com", "current_password": "guess"},
        )
        assert response.status_code == 400
    response = client.patch(
        "/api/v1/users/me/", {"email": "probe9@example.com", "current_password": PASSWORD}
    )
    assert (
        response.status_code == 429 and 1 <= int(response["Retry-After"]) <= 3600
    )  # an hourly window; it may be ending
    assert mail.outbox == []


SPELLINGS_OF_SIM = ["sim", "Sim", "SIM", "\u017fim", "sim@example.com", "SIM@Example.COM"]


def test_token_log_in_tries_share_one_budget_however_the_name_is_spelt():
    UserFactory(username="sim", email="sim@example.com")
    for attempt in range(10):
        spelling = SPELLINGS_OF_SIM[attempt % len(SPELLINGS_OF_SIM)]
        response = APIClient().post(
            "/api/v1/auth/token/",
            {"username": spelling, "password": "x"},
            REMOTE_ADDR=f"10.1.1.{attempt}",
        )
        assert response.status_code == 400
    for spelling in SPELLINGS_OF_SIM:
        response = APIClient().post(
            "/api/v1/auth/token/",
            {"username": spelling, "password": PASSWORD},
            REMOTE_ADDR="10.2.2.2",
        )
        assert response.status_code == 429, spelling


def test_page_and_token_log_in_share_the_budget(client):
    UserFactory(username="sim", email="sim@example.com")
    for attempt in range(5):
        client.post("/accounts/login/", {"username": "SIM", "password": "x"})
        APIClient().post(
            "/api/v1/auth/token/",
            {"username": "sim@example.com", "password": "x"},
            REMOTE_ADDR=f"10.1.2.{attempt}",
        )
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "sim", "password": PASSWORD}, REMOTE_ADDR="10.3.3.3"
    )
    assert response.status_code == 429


def test_a_json_list_body_is_a_400_not_a_500(member):
    response = APIClient().post("/api/v1/auth/token/", ["username"], format="json")
    assert response.status_code == 400
