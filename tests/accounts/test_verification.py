"""E-mail verification: sign-up makes an unverified account and mails a signed, expiring link;
until it is opened the member may do everything but upload; address changes verify the new
address and tell the old one; password-reset mail goes to verified addresses only."""

import re

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import User
from accounts.services import email_change_confirm, email_verification_send
from accounts.tokens import email_change_token
from creations.models import Creation
from creations.services import EmailNotVerifiedError
from tests.conftest import client_for
from tests.factories import PASSWORD, UserFactory
from tests.images import image_bytes

pytestmark = pytest.mark.django_db

PASSWORDS = {"password1": "a-long-brick-password", "password2": "a-long-brick-password"}
SIGNUP = {"username": "newbuilder", "email": "new@example.com", **PASSWORDS}
VERIFY_LINK = re.compile(r"https?://testserver(/accounts/verify/[^/\s]+/)")
SITE = "https://npu.test"


def verify_link(message) -> str:
    return VERIFY_LINK.search(message.body).group(1)


def photo():
    return SimpleUploadedFile("photo.png", image_bytes("PNG", size=(640, 480)), "image/png")


def upload_fields():
    return {"title": "Hand lamp", "description": "", "alt_text": "", "tags": "", "image": photo()}


@pytest.fixture
def unverified(db):
    return UserFactory(username="fresh", email="fresh@example.com", email_verified=False)


# Sign-up ----------------------------------------------------------------------------------------


def test_signup_makes_an_unverified_account_and_mails_one_link(client):
    response = client.post(reverse("accounts:signup"), SIGNUP, follow=True)
    assert response.redirect_chain == [(reverse("accounts:signup_sent"), 302)]
    assert "Check your e-mail" in response.content.decode()
    assert not response.context["user"].is_authenticated  # no log-in: nothing to compare
    user = User.objects.get()
    assert (user.username, user.email, user.email_verified) == (
        "newbuilder",
        "new@example.com",
        False,
    )
    assert user.check_password("a-long-brick-password")
    (message,) = mail.outbox
    assert message.to == ["new@example.com"]
    assert verify_link(message).startswith("/accounts/verify/")


def test_signup_with_a_taken_address_makes_nothing_mails_the_owner_and_answers_the_same(client):
    owner = UserFactory(username="owner", email="New@Example.com")

    def attempt(username, email):
        mail.outbox.clear()
        response = client.post(
            reverse("accounts:signup"), {**SIGNUP, "username": username, "email": email}
        )
        return response, client.get(response["Location"]), list(mail.outbox)

    free, free_page, free_mail = attempt("first", "free@example.com")
    taken, taken_page, taken_mail = attempt("second", "new@example.com")

    assert (free.status_code, free["Location"]) == (taken.status_code, taken["Location"])
    assert free.content == taken.content and free_page.content == taken_page.content
    assert len(free_mail) == len(taken_mail) == 1
    assert taken_mail[0].to == [owner.email]
    assert (
        "/accounts/verify/" not in taken_mail[0].body and "/accounts/login/" in taken_mail[0].body
    )
    assert set(User.objects.values_list("username", flat=True)) == {"owner", "first"}


def test_signup_applies_the_password_validators_and_refuses_a_taken_username(client, member):
    short = client.post(
        reverse("accounts:signup"), {**SIGNUP, "password1": "1234", "password2": "1234"}
    )
    assert short.status_code == 200
    assert "too short" in str(short.context["form"].errors["password2"])
    similar = client.post(
        reverse("accounts:signup"),
        {**SIGNUP, "password1": "newbuilder1", "password2": "newbuilder1"},
    )
    assert "too similar" in str(similar.context["form"].errors["password2"])
    mismatch = client.post(reverse("accounts:signup"), {**SIGNUP, "password2": "other-password"})
    assert "didn’t match" in str(mismatch.context["form"].errors["password2"])
    taken = client.post(reverse("accounts:signup"), {**SIGNUP, "username": "member"})
    assert "already exists" in str(taken.context["form"].errors["username"])
    assert 'value="new@example.com"' in taken.content.decode()
    assert list(User.objects.values_list("username", flat=True)) == ["member"]
    assert mail.outbox == []


def test_create_user_counts_as_verified():
    user = User.objects.create_user("shell", "shell@example.com", "x-long-password")
    admin = User.objects.create_superuser("root", "root@example.com", "x-long-password")
    assert user.email_verified and admin.email_verified


def test_a_link_from_the_former_two_step_sign_up_says_to_sign_up_again(client):
    response = client.get("/accounts/signup/confirm/eyJ1c2VybmFtZSI6Im9sZCJ9:old:sig/")
    assert response.status_code == 200
    assert "not valid any more" in response.content.decode()
    assert reverse("accounts:signup") in response.content.decode()


# The link ---------------------------------------------------------------------------------------


def test_the_link_verifies_and_offers_to_log_in_with_next(client):
    client.post(reverse("accounts:signup"), {**SIGNUP, "next": "/tags/"})
    assert client.get(reverse("accounts:signup_sent") + "?next=/tags/").status_code == 200
    response = client.get(verify_link(mail.outbox[0]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Your address is confirmed" in body
    assert f"{reverse('accounts:login')}?next=/tags/" in body
    assert User.objects.get().email_verified


def test_the_link_opened_logged_in_offers_the_upload_page(client):
    client.post(reverse("accounts:signup"), SIGNUP)
    client.force_login(User.objects.get())
    response = client.get(verify_link(mail.outbox[0]))
    assert response.context["next"] == reverse("creations:new")
    assert 'href="/creations/new/"' in response.content.decode()


def test_the_link_ignores_an_offsite_next(client):
    client.post(reverse("accounts:signup"), {**SIGNUP, "next": "https://evil.test/"})
    response = client.get(verify_link(mail.outbox[0]))
    assert "evil.test" not in response.content.decode()


def test_the_link_works_once(client):
    client.post(reverse("accounts:signup"), SIGNUP)
    link = verify_link(mail.outbox[0])
    assert client.get(link).status_code == 200
    again = client.get(link)
    assert again.status_code == 400 and "not valid any more" in again.content.decode()
    assert User.objects.get().email_verified


def test_an_expired_link_verifies_nothing(client, settings):
    client.post(reverse("accounts:signup"), SIGNUP)
    settings.PASSWORD_RESET_TIMEOUT = -1  # every link is older than that
    response = client.get(verify_link(mail.outbox[0]))
    assert response.status_code == 400 and "too old" in response.content.decode()
    assert not User.objects.get().email_verified


@pytest.mark.parametrize("change", ["x", "-", "AAAA"])
def test_a_tampered_link_verifies_nothing(client, change):
    client.post(reverse("accounts:signup"), SIGNUP)
    link = verify_link(mail.outbox[0])
    tampered = link[:-3] + change + link[-3:]
    response = client.get(tampered)
    assert response.status_code == 400
    assert not User.objects.get().email_verified


def test_the_link_dies_when_the_address_changes(client, unverified):
    email_verification_send(user=unverified, base_url=SITE)
    User.objects.filter(pk=unverified.pk).update(email="elsewhere@example.com")
    response = client.get(re.search(r"/accounts/verify/\S+/", mail.outbox[0].body)[0])
    assert response.status_code == 400
    assert not User.objects.get(pk=unverified.pk).email_verified


def test_a_link_of_another_kind_does_not_verify(client, unverified):
    """An address-change link carries the member's id too, signed with another salt."""
    token = email_change_token(user=unverified, email="fresh@example.com")
    assert client.get(reverse("accounts:email_verify", args=[token])).status_code == 400
    assert not User.objects.get(pk=unverified.pk).email_verified


# What an unverified member may do ---------------------------------------------------------------


def test_an_unverified_member_logs_in_and_sees_the_upload_notice_instead_of_the_form(
    client, unverified
):
    response = client.post(reverse("accounts:login"), {"username": "fresh", "password": PASSWORD})
    assert response.status_code == 302
    page = client.get(reverse("creations:new"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "is not confirmed yet" in body and "Send the link again" in body
    assert reverse("accounts:email_verify_resend") in body
    assert 'enctype="multipart/form-data"' not in body


def test_an_unverified_upload_is_refused_on_the_page_and_stores_nothing(
    client, unverified, media_files
):
    client.force_login(unverified)
    response = client.post(reverse("creations:new"), upload_fields())
    assert response.status_code == 403
    assert "is not confirmed yet" in response.content.decode()
    assert not Creation.objects.exists()
    assert media_files() == []


def test_an_unverified_upload_is_refused_by_the_api_with_the_reason(unverified, media_files):
    response = client_for(unverified).post(
        "/api/v1/creations/", upload_fields(), format="multipart"
    )
    assert response.status_code == 403
    assert response.json()["detail"] == EmailNotVerifiedError.message
    assert not Creation.objects.exists()
    assert media_files() == []


def test_after_verifying_the_member_uploads_on_the_page_and_the_api(client, unverified):
    email_verification_send(user=unverified, base_url="http://testserver")
    client.force_login(unverified)
    assert client.get(verify_link(mail.outbox[0])).status_code == 200
    assert 'enctype="multipart/form-data"' in client.get(reverse("creations:new")).content.decode()
    page = client.post(reverse("creations:new"), upload_fields())
    assert page.status_code == 302
    api = client_for(unverified).post("/api/v1/creations/", upload_fields(), format="multipart")
    assert api.status_code == 201
    assert Creation.objects.filter(owner=unverified).count() == 2


def test_an_unverified_member_scores(client, unverified, creation):
    client.force_login(unverified)
    response = client.post(
        reverse("scoring:submit", args=[creation.pk]), {"creativity": 4, "uniqueness": 3}
    )
    assert response.status_code == 302
    assert creation.scores.filter(user=unverified).exists()


# Sending the link again -------------------------------------------------------------------------


def test_settings_page_shows_the_notice_only_while_unverified(client, unverified, member):
    client.force_login(unverified)
    body = client.get(reverse("accounts:settings")).content.decode()
    assert "Your address <strong>fresh@example.com</strong> is not confirmed yet" in body
    client.force_login(member)
    assert "not confirmed yet" not in client.get(reverse("accounts:settings")).content.decode()


def test_every_page_reminds_an_unverified_member_once(client, unverified, member, creation):
    client.force_login(unverified)
    for url in ("/", f"/creations/{creation.pk}/", "/u/fresh/", reverse("accounts:settings")):
        body = client.get(url).content.decode()
        reminders = body.count('id="email-unverified-banner"') + body.count('id="email-unverified"')
        assert reminders == 1, url
        assert "fresh@example.com" in body
    body = client.get("/").content.decode()
    assert "Confirm your e-mail address to upload" in body
    assert '<input type="hidden" name="next" value="/">' in body
    # The upload page shows the whole notice instead of the banner.
    upload = client.get(reverse("creations:new")).content.decode()
    assert 'id="email-unverified"' in upload and 'id="email-unverified-banner"' not in upload
    for visitor in (member, None):
        if visitor is None:
            client.logout()
        else:
            client.force_login(visitor)
        assert "email-unverified" not in client.get("/").content.decode()


def test_resend_on_the_page_mails_a_working_link_then_is_limited(client, unverified):
    client.force_login(unverified)
    url = reverse("accounts:email_verify_resend")
    response = client.post(url, {"next": "/creations/new/"})
    assert response.status_code == 302 and response["Location"] == "/creations/new/"
    (message,) = mail.outbox
    assert message.to == ["fresh@example.com"]
    for _ in range(4):
        assert client.post(url).status_code == 302
    over = client.post(url)
    assert over.status_code == 429 and int(over["Retry-After"]) >= 1
    assert len(mail.outbox) == 5
    assert client.get(verify_link(mail.outbox[-1])).status_code == 200
    assert User.objects.get(pk=unverified.pk).email_verified


def test_resend_for_a_verified_member_mails_nothing(client, member):
    client.force_login(member)
    response = client.post(reverse("accounts:email_verify_resend"))
    assert response.status_code == 302 and response["Location"] == reverse("accounts:settings")
    assert mail.outbox == []


def test_resend_needs_a_post_and_a_member(client, unverified):
    url = reverse("accounts:email_verify_resend")
    assert "/accounts/login/" in client.post(url)["Location"]
    client.force_login(unverified)
    assert client.get(url).status_code == 405
    assert mail.outbox == []


def test_resend_by_the_api(unverified, member):
    api = client_for(unverified)
    response = api.post("/api/v1/users/me/verify-email/")
    assert response.status_code == 202 and "fresh@example.com" in response.json()["detail"]
    assert mail.outbox[0].to == ["fresh@example.com"]
    assert api.get("/api/v1/users/me/").json()["email_verified"] is False
    for _ in range(4):
        assert api.post("/api/v1/users/me/verify-email/").status_code == 202
    over = api.post("/api/v1/users/me/verify-email/")
    assert over.status_code == 429 and int(over["Retry-After"]) >= 1
    assert len(mail.outbox) == 5

    verified = client_for(member).post("/api/v1/users/me/verify-email/")
    assert verified.status_code == 400 and "confirmed already" in verified.json()["detail"]
    assert client_for(None).post("/api/v1/users/me/verify-email/").status_code == 401
    assert len(mail.outbox) == 5


def test_sign_up_and_resend_share_the_limit_of_mail_to_one_address(client):
    client.post(reverse("accounts:signup"), SIGNUP)
    client.force_login(User.objects.get())
    url = reverse("accounts:email_verify_resend")
    for _ in range(4):
        client.post(url, REMOTE_ADDR="10.3.0.1")
    assert client.post(url, REMOTE_ADDR="10.3.0.2").status_code == 429
    assert len(mail.outbox) == 5


def test_own_profile_json_says_whether_the_address_is_verified(unverified):
    data = client_for(unverified).get("/api/v1/users/me/").json()
    assert set(data) == {
        "username",
        "display_name",
        "bio",
        "date_joined",
        "creation_count",
        "email",
        "email_verified",
    }
    assert data["email_verified"] is False
    # Read-only: a member cannot verify themselves.
    client_for(unverified).patch("/api/v1/users/me/", {"email_verified": True}, format="json")
    assert not User.objects.get(pk=unverified.pk).email_verified


# Address changes --------------------------------------------------------------------------------


def test_an_address_change_verifies_the_new_address_and_tells_the_old_one(client, unverified):
    client.force_login(unverified)
    client.post(
        reverse("accounts:settings"),
        {
            "display_name": "",
            "bio": "",
            "email": "moved@example.com",
            "current_password": PASSWORD,
        },
    )
    (link_mail,) = mail.outbox
    assert link_mail.to == ["moved@example.com"]
    link = re.search(r"/accounts/email/confirm/\S+/", link_mail.body)[0]
    assert User.objects.get(pk=unverified.pk).email == "fresh@example.com"  # not yet
    mail.outbox.clear()

    response = client.post(link)
    assert response.status_code == 302
    user = User.objects.get(pk=unverified.pk)
    assert (user.email, user.email_verified) == ("moved@example.com", True)
    (notice,) = mail.outbox
    assert notice.to == ["fresh@example.com"]
    assert "was changed to moved@example.com" in notice.body
    assert "/accounts/password/reset/" in notice.body
    assert client.post(link).status_code == 200  # used: the page says so, nothing changes
    assert len(mail.outbox) == 1


def test_an_address_change_kills_an_earlier_verification_link(client, unverified):
    email_verification_send(user=unverified, base_url="http://testserver")
    old_link = verify_link(mail.outbox[0])
    email_change_confirm(
        token=email_change_token(user=unverified, email="moved@example.com"), base_url=SITE
    )
    assert client.get(old_link).status_code == 400
    assert User.objects.get(pk=unverified.pk).email == "moved@example.com"


# Password reset ---------------------------------------------------------------------------------


def test_password_reset_mails_a_verified_address_only_and_answers_the_same(client, unverified):
    url = reverse("accounts:password_reset")
    quiet = client.post(url, {"email": "fresh@example.com"})
    assert mail.outbox == []
    UserFactory(username="solid", email="solid@example.com")
    sent = client.post(url, {"email": "solid@example.com"})
    assert (quiet.status_code, quiet["Location"]) == (sent.status_code, sent["Location"])
    assert [m.to for m in mail.outbox] == [["solid@example.com"]]


# The admin ---------------------------------------------------------------------------------------


def test_the_admin_lists_and_filters_members_by_verification(client, superuser, unverified, member):
    client.force_login(superuser)
    page = client.get("/admin/accounts/user/?email_verified__exact=0")
    assert page.status_code == 200
    shown = [user.username for user in page.context["cl"].result_list]
    assert shown == ["fresh"]
    assert "email_verified" in page.context["cl"].list_display
