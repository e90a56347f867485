import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from rest_framework.authtoken.models import Token

from accounts.models import User
from accounts.services import (
    email_change_confirm,
    email_change_request,
    signup_create,
    user_create,
    user_password_changed,
)
from accounts.tokens import email_change_token
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SITE = "https://npu.test"


def test_user_password_changed_deletes_the_token_and_every_other_session(client, member):
    client.force_login(member)
    kept = client.session.session_key
    other = UserFactory(username="bystander")
    Token.objects.create(user=member)
    Token.objects.create(user=other)

    user_password_changed(user=member, current_session_key=kept)

    assert not Token.objects.filter(user=member).exists()
    assert Token.objects.filter(user=other).exists()
    assert client.session.session_key == kept and client.session.exists(kept)


def test_signup_create_for_a_taken_address_mails_its_owner_a_note(member):
    made = signup_create(
        username="copycat", email="MEMBER@Example.com", password="long-password-1", base_url=SITE
    )
    assert made is None
    assert [m.to for m in mail.outbox] == [["member@example.com"]]
    assert "member" in mail.outbox[0].body and f"{SITE}/accounts/login/" in mail.outbox[0].body
    assert not User.objects.filter(username="copycat").exists()


def test_an_address_that_only_postgresql_upper_matches_is_not_taken(member):
    """UPPER() turns a dotless ı into I; the unique constraint (LOWER) and Unicode do not."""
    variant = "m\u0131mber@example.com"
    UserFactory(username="mimber", email="mimber@example.com")
    made = signup_create(
        username="dotless", email=variant, password="long-password-1", base_url=SITE
    )
    assert made.email == variant and not made.email_verified
    assert mail.outbox[0].to == [variant] and "/accounts/verify/" in mail.outbox[0].body


def test_user_create_turns_a_racing_duplicate_into_a_validation_error(member, monkeypatch):
    monkeypatch.setattr(User, "full_clean", lambda self, **kwargs: None)  # lose the race
    with pytest.raises(ValidationError, match="already exists"):
        user_create(username="copycat", email="MEMBER@example.com", password="long-password-1")


def test_signup_create_treats_an_address_taken_in_a_race_as_taken(member, monkeypatch):
    monkeypatch.setattr("accounts.services.user_with_email", lambda email: None)  # lose the race
    real_user_create = user_create

    def user_create_then_found(**kwargs):
        monkeypatch.setattr("accounts.services.user_with_email", lambda email: member)
        return real_user_create(**kwargs)

    monkeypatch.setattr("accounts.services.user_create", user_create_then_found)
    made = signup_create(
        username="copycat", email="MEMBER@example.com", password="long-password-1", base_url=SITE
    )
    assert made is None
    assert [m.to for m in mail.outbox] == [["member@example.com"]]
    assert "/accounts/verify/" not in mail.outbox[0].body
    assert not User.objects.filter(username="copycat").exists()


def test_signup_create_refuses_a_username_taken_in_a_race(member):
    with pytest.raises(ValidationError) as error:
        signup_create(
            username="member", email="new@example.com", password="long-password-1", base_url=SITE
        )
    assert "username" in error.value.message_dict
    assert mail.outbox == [] and User.objects.count() == 1


def test_email_change_confirm_turns_a_racing_duplicate_into_a_validation_error(
    member, other_member, monkeypatch
):
    token = email_change_token(user=member, email="other@example.com")
    monkeypatch.setattr(User, "validate_constraints", lambda self, **kwargs: None)
    with pytest.raises(ValidationError, match="already exists"):
        email_change_confirm(token=token, base_url=SITE)
    member.refresh_from_db()
    assert member.email == "member@example.com"


def test_email_change_request_to_the_members_own_address_in_another_case_sends_a_link(member):
    email_change_request(user=member, email="Member@Example.com", base_url=SITE)
    assert mail.outbox[0].to == ["Member@example.com"]
    assert "/email/confirm/" in mail.outbox[0].body
