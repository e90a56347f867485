import re

import pytest
from django.core import mail
from django.urls import reverse
from rest_framework.authtoken.models import Token

from accounts.models import User
from tests.factories import PASSWORD, CreationFactory, ScoreFactory, UserFactory

pytestmark = pytest.mark.django_db

SIGNUP = {
    "username": "newbuilder",
    "email": "new@example.com",
    "password1": "a-long-brick-password",
    "password2": "a-long-brick-password",
}


def test_signup_creates_a_member_logs_them_in_and_follows_next(client):
    response = client.post(reverse("accounts:signup"), {**SIGNUP, "next": "/tags/"})
    assert response.status_code == 302 and response["Location"] == "/tags/"
    user = User.objects.get(username="newbuilder")
    assert user.check_password("a-long-brick-password")
    assert client.get("/").context["user"] == user


def test_signup_ignores_an_offsite_next(client):
    response = client.post(reverse("accounts:signup"), {**SIGNUP, "next": "https://evil.test/"})
    assert response["Location"] == "/"


def test_signup_refuses_a_taken_email_in_any_case_and_keeps_the_input(client):
    UserFactory(email="New@Example.com")
    response = client.post(reverse("accounts:signup"), SIGNUP)
    assert response.status_code == 200
    assert "already exists" in str(response.context["form"].errors["email"])
    assert 'value="newbuilder"' in response.content.decode()
    assert not User.objects.filter(username="newbuilder").exists()


def test_signup_applies_django_password_validators(client):
    response = client.post(
        reverse("accounts:signup"), {**SIGNUP, "password1": "1234", "password2": "1234"}
    )
    errors = str(response.context["form"].errors)
    assert "too short" in errors and "entirely numeric" in errors
    assert not User.objects.filter(username="newbuilder").exists()


@pytest.mark.parametrize("login_as", ["builder", "Builder@Example.com"])
def test_login_with_username_or_email_returns_to_next(client, login_as):
    UserFactory(username="builder", email="builder@example.com")
    response = client.post(
        reverse("accounts:login"),
        {"username": login_as, "password": PASSWORD, "next": "/tags/"},
    )
    assert response.status_code == 302 and response["Location"] == "/tags/"


def test_login_with_a_wrong_password_says_so(client, member):
    response = client.post(reverse("accounts:login"), {"username": "member", "password": "no"})
    assert response.status_code == 200
    assert "correct username and password" in response.content.decode()


def test_logout_needs_a_post(client, member):
    client.force_login(member)
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert not client.get("/").context["user"].is_authenticated


def test_password_change(client, member):
    client.force_login(member)
    response = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "another-brick-in-the-wall",
            "new_password2": "another-brick-in-the-wall",
        },
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.check_password("another-brick-in-the-wall")


def test_password_reset_by_email_link(client, member):
    response = client.post(reverse("accounts:password_reset"), {"email": "MEMBER@example.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["member@example.com"]
    link = re.search(r"https?://testserver(/accounts/password/reset/\S+/)", mail.outbox[0].body)
    confirm = client.get(link.group(1), follow=True)
    assert confirm.context["validlink"]
    done = client.post(
        confirm.redirect_chain[-1][0],
        {"new_password1": "fresh-brick-password", "new_password2": "fresh-brick-password"},
    )
    assert done.status_code == 302
    member.refresh_from_db()
    assert member.check_password("fresh-brick-password")


def test_password_reset_for_an_unknown_address_sends_nothing_and_reveals_nothing(client):
    response = client.post(reverse("accounts:password_reset"), {"email": "ghost@example.com"})
    assert response.status_code == 302
    assert mail.outbox == []


def test_settings_update_profile_and_email(client, member):
    client.force_login(member)
    response = client.post(
        reverse("accounts:settings"),
        {"display_name": " Brick Queen ", "bio": "Hinges!", "email": "queen@example.com"},
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.display_name, member.bio, member.email) == (
        "Brick Queen",
        "Hinges!",
        "queen@example.com",
    )


def test_settings_refuse_someone_elses_email(client, member, other_member):
    client.force_login(member)
    response = client.post(
        reverse("accounts:settings"),
        {"display_name": "", "bio": "", "email": other_member.email.upper()},
    )
    assert "already exists" in str(response.context["form"].errors["email"])
    member.refresh_from_db()
    assert member.email == "member@example.com"


@pytest.mark.parametrize(
    "name", ["accounts:settings", "accounts:api_token", "accounts:password_change"]
)
def test_member_pages_send_anonymous_visitors_to_log_in(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login") + "?next=")


def test_api_token_page_shows_and_regenerates_the_token(client, member):
    client.force_login(member)
    first = client.get(reverse("accounts:api_token"))
    key = Token.objects.get(user=member).key
    assert key in first.content.decode()

    client.post(reverse("accounts:api_token_reset"))

    new_key = Token.objects.get(user=member).key
    assert new_key != key
    assert new_key in client.get(reverse("accounts:api_token")).content.decode()


def test_profile_shows_stats_and_no_private_data(client, member):
    creation = CreationFactory(owner=member)
    ScoreFactory(creation=creation, creativity=4, uniqueness=2)
    ScoreFactory(user=member, creation=CreationFactory())
    Token.objects.create(user=member)

    response = client.get(member.get_absolute_url())

    assert response.context["stats"] == {"creation_count": 1, "mean_rating": 3.0}
    body = response.content.decode()
    assert "<dt>Scores given</dt><dd>1</dd>" in body
    assert member.email not in body and member.auth_token.key not in body


def test_unknown_profile_is_404(client):
    assert client.get("/u/nobody/").status_code == 404


def test_login_is_limited_per_ip_with_retry_after(client, member):
    url = reverse("accounts:login")
    for attempt in range(10):
        response = client.post(url, {"username": f"user{attempt}", "password": "wrong"})
        assert response.status_code == 200
    response = client.post(url, {"username": "member", "password": PASSWORD})
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert "Please try again in" in response.content.decode()


def test_login_is_limited_per_username_across_addresses(client, member):
    url = reverse("accounts:login")
    for attempt in range(10):
        client.post(
            url, {"username": "member", "password": "wrong"}, REMOTE_ADDR=f"10.0.0.{attempt}"
        )
    response = client.post(url, {"username": "member", "password": "wrong"}, REMOTE_ADDR="10.9.9.9")
    assert response.status_code == 429


def test_signup_is_limited_to_five_an_hour_per_ip(client):
    url = reverse("accounts:signup")
    for attempt in range(5):
        client.post(url, {**SIGNUP, "username": f"bot{attempt}", "email": f"b{attempt}@x.org"})
        client.post(reverse("accounts:logout"))
    response = client.post(url, {**SIGNUP, "username": "bot9", "email": "b9@x.org"})
    assert response.status_code == 429
    assert 60 < int(response["Retry-After"]) <= 3600
    assert User.objects.filter(username__startswith="bot").count() == 5


def test_rate_limits_can_be_switched_off(client, settings, member):
    settings.RATELIMIT_ENABLE = False
    for _ in range(12):
        response = client.post(reverse("accounts:login"), {"username": "x", "password": "y"})
    assert response.status_code == 200
