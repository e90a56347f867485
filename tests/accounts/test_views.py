import re

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import User
from tests.factories import PASSWORD, CreationFactory, ScoreFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORDS = {"password1": "a-long-brick-password", "password2": "a-long-brick-password"}
SIGNUP = {"username": "newbuilder", "email": "new@example.com", **PASSWORDS}
LINK = re.compile(r"https?://testserver(/accounts/\S+/)")


def mailed_link(message) -> str:
    return LINK.search(message.body).group(1)


def sign_up(client, **fields):
    """Post the sign-up form; return the path of the link it mails."""
    response = client.post(reverse("accounts:signup"), {**SIGNUP, **fields})
    assert response.status_code == 302, response.content
    return mailed_link(mail.outbox[-1])


def test_signup_makes_an_unverified_account_mails_a_link_and_does_not_log_in(client):
    response = client.post(reverse("accounts:signup"), SIGNUP, follow=True)
    assert response.redirect_chain == [(reverse("accounts:signup_sent"), 302)]
    assert "Check your e-mail" in response.content.decode()
    assert not response.context["user"].is_authenticated
    user = User.objects.get()
    assert user.email == "new@example.com" and not user.email_verified
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["new@example.com"]
    assert "/accounts/verify/" in mail.outbox[0].body


def test_signup_keeps_next_for_logging_in_after_the_link(client):
    response = client.post(reverse("accounts:signup"), {**SIGNUP, "next": "/tags/"})
    assert response["Location"] == reverse("accounts:signup_sent") + "?next=%2Ftags%2F"
    assert "/accounts/login/?next=/tags/" in client.get(response["Location"]).content.decode()
    page = client.get(mailed_link(mail.outbox[0]))
    assert "/accounts/login/?next=/tags/" in page.content.decode()
    login = client.post(
        reverse("accounts:login"),
        {"username": "newbuilder", "password": PASSWORDS["password1"], "next": "/tags/"},
    )
    assert login["Location"] == "/tags/"


def test_signup_ignores_an_offsite_next(client):
    response = client.post(reverse("accounts:signup"), {**SIGNUP, "next": "https://evil.test/"})
    assert response["Location"] == reverse("accounts:signup_sent")
    assert "evil.test" not in client.get(mailed_link(mail.outbox[0])).content.decode()


def test_signup_with_a_taken_address_answers_exactly_as_with_a_new_one(client):
    owner = UserFactory(username="owner", email="New@Example.com")

    def attempt(username, email):
        mail.outbox.clear()
        response = client.post(
            reverse("accounts:signup"), {**SIGNUP, "username": username, "email": email}
        )
        page = client.get(response["Location"])
        return response, page, list(mail.outbox)

    free, free_page, free_mail = attempt("first", "free@example.com")
    taken, taken_page, taken_mail = attempt("second", "new@example.com")

    assert (free.status_code, free["Location"]) == (taken.status_code, taken["Location"])
    assert free.content == taken.content and free_page.content == taken_page.content
    # Nobody is logged in either way, so no page after it can tell the two apart.
    assert not free_page.context["user"].is_authenticated
    assert len(free_mail) == len(taken_mail) == 1
    # The owner is told, with no link that could verify anything.
    assert taken_mail[0].to == [owner.email] and "/accounts/verify/" not in taken_mail[0].body
    assert "already exists" not in taken.content.decode() + taken_page.content.decode()
    assert set(User.objects.values_list("username", flat=True)) == {"owner", "first"}


def test_signup_with_a_taken_address_hashes_the_password_all_the_same(client, monkeypatch):
    """Making an account hashes its password; a taken address does too, so the time the
    answer takes does not tell the two apart."""
    UserFactory(username="owner", email="new@example.com")
    hashed = []
    monkeypatch.setattr(
        "accounts.services.make_password",
        lambda password: hashed.append(password) or make_password(password),
    )
    client.post(reverse("accounts:signup"), SIGNUP)
    assert hashed == [PASSWORDS["password1"]]


def test_signup_link_cannot_be_used_twice(client):
    link = sign_up(client)
    assert client.get(link).status_code == 200
    assert client.get(link).status_code == 400
    assert User.objects.count() == 1


def test_signup_link_that_is_tampered_with_or_too_old_is_refused(client, settings):
    link = sign_up(client)
    tampered = link.replace("/verify/", "/verify/x")
    assert client.get(tampered).status_code == 400
    settings.PASSWORD_RESET_TIMEOUT = -1
    assert client.get(link).status_code == 400
    assert not User.objects.get().email_verified


def test_signup_applies_django_password_validators(client):
    response = client.post(
        reverse("accounts:signup"), {**SIGNUP, "password1": "1234", "password2": "1234"}
    )
    errors = str(response.context["form"].errors)
    assert "too short" in errors and "entirely numeric" in errors
    similar = client.post(
        reverse("accounts:signup"),
        {**SIGNUP, "password1": "newbuilder1", "password2": "newbuilder1"},
    )
    assert "too similar" in str(similar.context["form"].errors)
    assert not User.objects.exists()
    assert mail.outbox == []


def test_signup_refuses_a_taken_username_and_keeps_the_input(client, member):
    response = client.post(reverse("accounts:signup"), {**SIGNUP, "username": "member"})
    assert response.status_code == 200
    assert "already exists" in str(response.context["form"].errors["username"])
    assert 'value="new@example.com"' in response.content.decode()
    assert mail.outbox == []


def test_signup_refuses_a_username_mixing_scripts(client):
    response = client.post(reverse("accounts:signup"), {**SIGNUP, "username": "\u0430xel"})
    assert "one alphabet" in str(response.context["form"].errors["username"])
    assert mail.outbox == []


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


def test_a_page_answering_405_shows_the_site_page_and_keeps_allow(client, member):
    client.force_login(member)
    response = client.get(reverse("accounts:logout"))
    assert response.status_code == 405
    assert "POST" in response["Allow"]
    body = response.content.decode()
    assert "That does not work here" in body and "Skip to content" in body  # base.html
    assert response["Content-Type"].startswith("text/html")


def test_an_api_405_stays_json(client):
    response = APIClient().get("/api/v1/auth/token/")
    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
    assert "not allowed" in response.json()["detail"]


NEW_PASSWORD = {
    "new_password1": "another-brick-in-the-wall",
    "new_password2": "another-brick-in-the-wall",
}


def logged_in_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def is_logged_in(client) -> bool:
    return client.get(reverse("accounts:login")).status_code == 302  # it sends members on


def change_password(client):
    return client.post(
        reverse("accounts:password_change"), {"old_password": PASSWORD, **NEW_PASSWORD}
    )


def reset_password(client, address="member@example.com"):
    client.post(reverse("accounts:password_reset"), {"email": address})
    confirm = client.get(mailed_link(mail.outbox[-1]), follow=True)
    assert confirm.context["validlink"]
    return client.post(confirm.redirect_chain[-1][0], NEW_PASSWORD)


def api_answers(token_key: str) -> int:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_key}")
    return api.get("/api/v1/users/me/").status_code


def test_password_change(client, member):
    client.force_login(member)
    response = change_password(client)
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.check_password("another-brick-in-the-wall")


def test_password_change_ends_other_sessions_and_the_api_token_but_not_this_session(member):
    here, elsewhere = logged_in_client(member), logged_in_client(member)
    token = Token.objects.create(user=member)
    assert api_answers(token.key) == 200

    assert change_password(here).status_code == 302

    # The other session is deleted from the store, not only refused by the session hash.
    assert not Session.objects.filter(session_key=elsewhere.session.session_key).exists()
    assert not is_logged_in(elsewhere)
    assert is_logged_in(here)
    assert api_answers(token.key) == 401
    assert not Token.objects.filter(user=member).exists()


def test_password_reset_by_email_link(client, member):
    response = client.post(reverse("accounts:password_reset"), {"email": "MEMBER@example.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["member@example.com"]
    done = reset_password(client)
    assert done.status_code == 302
    member.refresh_from_db()
    assert member.check_password("another-brick-in-the-wall")


def test_password_reset_leaves_no_session_and_no_api_token(member):
    thief, owner_browser = logged_in_client(member), logged_in_client(member)
    token = Token.objects.create(user=member)

    assert reset_password(owner_browser).status_code == 302

    assert not is_logged_in(thief) and not is_logged_in(owner_browser)
    assert not Session.objects.filter(session_key=thief.session.session_key).exists()
    assert api_answers(token.key) == 401


def test_password_change_clears_cached_sessions_too(settings, member):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    here, elsewhere = logged_in_client(member), logged_in_client(member)
    cache_key = "django.contrib.sessions.cached_db" + elsewhere.session.session_key
    assert cache.get(cache_key) is not None

    change_password(here)

    assert cache.get(cache_key) is None
    assert not is_logged_in(elsewhere) and is_logged_in(here)


def test_a_cached_session_is_refused_after_any_password_change(settings, member):
    """Django's session hash alone (no service, e.g. `manage.py changepassword`) already
    refuses a session, cached copy included, once the password changes."""
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    elsewhere = logged_in_client(member)
    cache_key = "django.contrib.sessions.cached_db" + elsewhere.session.session_key
    assert cache.get(cache_key) is not None
    member.set_password("another-brick-in-the-wall")
    member.save()
    assert not is_logged_in(elsewhere)


def test_password_reset_for_an_unknown_address_sends_nothing_and_reveals_nothing(client):
    response = client.post(reverse("accounts:password_reset"), {"email": "ghost@example.com"})
    assert response.status_code == 302
    assert mail.outbox == []


def test_password_reset_is_limited_per_ip_with_retry_after(client, member):
    url = reverse("accounts:password_reset")
    for attempt in range(5):
        assert client.post(url, {"email": f"someone{attempt}@example.com"}).status_code == 302
    response = client.post(url, {"email": "member@example.com"})
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 3600  # an hourly window; it may be ending
    assert "Please try again in" in response.content.decode()
    assert mail.outbox == []


def test_password_reset_mail_is_limited_per_address(client, member):
    url = reverse("accounts:password_reset")
    for attempt in range(5):
        address = "MEMBER@example.com" if attempt % 2 else "member@example.com"
        client.post(url, {"email": address}, REMOTE_ADDR=f"10.5.0.{attempt}")
    response = client.post(url, {"email": "Member@Example.com"}, REMOTE_ADDR="10.6.0.1")
    assert (
        response.status_code == 429 and 1 <= int(response["Retry-After"]) <= 3600
    )  # an hourly window; it may be ending
    assert len(mail.outbox) == 5


def save_settings(client, remote_addr="127.0.0.1", **fields):
    return client.post(
        reverse("accounts:settings"),
        {"display_name": "", "bio": "", "email": "member@example.com", **fields},
        REMOTE_ADDR=remote_addr,
    )


def without_csrf_tokens(page: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="\w+"', "", page)


def test_settings_save_display_name_and_bio_at_once(client, member):
    client.force_login(member)
    response = save_settings(client, display_name=" Brick Queen ", bio="Hinges!\nAnd clips.")
    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.display_name, member.bio) == ("Brick Queen", "Hinges!\nAnd clips.")
    assert mail.outbox == []


@pytest.mark.parametrize(
    "field, value", [("display_name", "Evil\u202egnp.exe"), ("bio", "nul \x00 here")]
)
def test_settings_refuse_control_and_bidi_characters_naming_the_field(client, member, field, value):
    client.force_login(member)
    response = save_settings(client, **{field: value})
    assert response.status_code == 200
    assert "not allowed" in str(response.context["form"].errors[field])


def test_settings_email_change_needs_the_current_password(client, member):
    client.force_login(member)
    missing = save_settings(client, email="queen@example.com")
    assert "current password" in str(missing.context["form"].errors["current_password"])
    wrong = save_settings(client, email="queen@example.com", current_password="nope")
    assert "not your current password" in str(wrong.context["form"].errors["current_password"])
    assert mail.outbox == []
    member.refresh_from_db()
    assert member.email == "member@example.com"


def test_settings_email_change_waits_for_the_mailed_link(client, member):
    client.force_login(member)
    response = save_settings(client, email="queen@example.com", current_password=PASSWORD)
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.email == "member@example.com"
    assert mail.outbox[0].to == ["queen@example.com"]
    link = mailed_link(mail.outbox[0])

    page = client.get(link)  # a mail scanner opening the link changes nothing
    assert page.context["email"] == "queen@example.com"
    member.refresh_from_db()
    assert member.email == "member@example.com"

    assert client.post(link)["Location"] == reverse("accounts:settings")
    member.refresh_from_db()
    assert member.email == "queen@example.com"
    assert client.post(link).context["problem"].startswith("This link is not valid")


def test_settings_email_change_to_a_taken_address_answers_as_for_a_free_one(
    client, member, other_member
):
    client.force_login(member)

    def attempt(email):
        mail.outbox.clear()
        response = save_settings(client, email=email, current_password=PASSWORD)
        page = without_csrf_tokens(client.get(response["Location"]).content.decode())
        return response, page.replace(email, "ADDRESS"), list(mail.outbox)

    free, free_page, free_mail = attempt("free@example.com")
    taken, taken_page, taken_mail = attempt(other_member.email.upper())

    assert (free.status_code, free["Location"]) == (taken.status_code, taken["Location"])
    assert free_page == taken_page
    assert "already exists" not in taken_page
    assert len(free_mail) == len(taken_mail) == 1
    assert taken_mail[0].to == [other_member.email] and "/email/confirm/" not in taken_mail[0].body
    member.refresh_from_db()
    assert member.email == "member@example.com"


def test_email_link_for_an_address_taken_meanwhile_is_refused_without_an_error(client, member):
    client.force_login(member)
    save_settings(client, email="queen@example.com", current_password=PASSWORD)
    link = mailed_link(mail.outbox[0])
    UserFactory(username="queen", email="Queen@Example.com")
    response = client.post(link)
    assert response.status_code == 200 and "already exists" in response.context["problem"]
    member.refresh_from_db()
    assert member.email == "member@example.com"


def test_email_link_dies_with_a_password_change(client, member):
    client.force_login(member)
    save_settings(client, email="queen@example.com", current_password=PASSWORD)
    link = mailed_link(mail.outbox[0])
    member.set_password("another-brick-in-the-wall")
    member.save()
    assert client.get(link).context["problem"].startswith("This link is not valid")


def test_settings_email_change_is_limited_per_address(client, member, other_member):
    for attempt in range(5):
        client.force_login(member if attempt % 2 else other_member)
        response = save_settings(
            client,
            email="Target@example.com",
            current_password=PASSWORD,
            remote_addr=f"10.3.0.{attempt}",
        )
        assert response.status_code == 302
    response = save_settings(
        client, email="target@example.com", current_password=PASSWORD, remote_addr="10.4.0.1"
    )
    assert (
        response.status_code == 429 and 1 <= int(response["Retry-After"]) <= 3600
    )  # an hourly window; it may be ending
    assert len(mail.outbox) == 5


def test_settings_without_an_address_change_are_not_limited(client, member):
    client.force_login(member)
    for _ in range(8):
        assert save_settings(client, bio="Another try").status_code == 302


def test_token_and_settings_pages_are_never_stored_by_caches(client, member):
    client.force_login(member)
    for name in ("accounts:api_token", "accounts:settings"):
        cache_control = client.get(reverse(name))["Cache-Control"]
        assert "no-store" in cache_control and "private" in cache_control


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
        client.post(url, {**PASSWORDS, "username": f"bot{attempt}", "email": f"b{attempt}@x.org"})
    response = client.post(url, {**PASSWORDS, "username": "bot9", "email": "b9@x.org"})
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 3600  # an hourly window; it may be ending
    assert len(mail.outbox) == 5


def test_signup_mail_is_limited_per_address(client, member):
    url = reverse("accounts:signup")
    for attempt in range(5):
        address = "Victim@example.com" if attempt % 2 else "victim@example.com"
        client.post(
            url,
            {**PASSWORDS, "username": f"bot{attempt}", "email": address},
            REMOTE_ADDR=f"10.7.0.{attempt}",
        )
    response = client.post(
        url,
        {**PASSWORDS, "username": "bot9", "email": "VICTIM@example.com"},
        REMOTE_ADDR="10.8.0.1",
    )
    assert response.status_code == 429
    assert len(mail.outbox) == 5


SPELLINGS_OF_SIM = [
    "sim",
    "Sim",
    "SIM",
    "\u017fim",
    "\uff33im",
    "sim@example.com",
    "SIM@Example.COM",
    "\u017fim@example.com",
    " sim ",
]


def test_log_in_tries_share_one_budget_however_the_name_is_spelt(client):
    UserFactory(username="sim", email="sim@example.com")
    url = reverse("accounts:login")
    for attempt in range(10):
        spelling = SPELLINGS_OF_SIM[attempt % len(SPELLINGS_OF_SIM)]
        response = client.post(
            url, {"username": spelling, "password": "wrong"}, REMOTE_ADDR=f"10.0.1.{attempt}"
        )
        assert response.status_code == 200
    for spelling in SPELLINGS_OF_SIM:
        response = client.post(
            url, {"username": spelling, "password": PASSWORD}, REMOTE_ADDR="10.9.9.9"
        )
        assert response.status_code == 429, spelling


@pytest.mark.parametrize(
    "spelling",
    ["s\u0131m", "s\u0131m@example.com", "S\u0130M@example.com", "SIM@EXAMPLE.COM", "\uff33IM"],
)
def test_a_spelling_that_logs_in_counts_against_the_account(client, spelling):
    """Whatever the database's case-insensitive match (PostgreSQL's UPPER() turns a dotless ı
    into I, SQLite's does not), a spelling that reaches the account spends its budget."""
    user = UserFactory(username="sim", email="sim@example.com")
    reaches_the_account = authenticate(username=spelling, password=PASSWORD) == user
    url = reverse("accounts:login")
    for attempt in range(10):
        client.post(url, {"username": spelling, "password": "x"}, REMOTE_ADDR=f"10.0.2.{attempt}")
    response = client.post(url, {"username": "sim", "password": PASSWORD}, REMOTE_ADDR="10.9.9.8")
    assert response.status_code == 429 or not reaches_the_account


@pytest.mark.parametrize("spelling", ["s\u0131m@example.com", "S\u0130M@example.com"])
def test_an_address_with_a_dotless_or_dotted_i_is_not_another_spelling_of_the_account(spelling):
    """As Unicode compares them (and as the LOWER(email) constraint does), these are other
    addresses, also on PostgreSQL, whose UPPER() would match them to sim@example.com."""
    UserFactory(username="sim", email="sim@example.com")
    assert authenticate(username=spelling, password=PASSWORD) is None


def test_rate_limits_can_be_switched_off(client, settings, member):
    settings.RATELIMIT_ENABLE = False
    for _ in range(12):
        response = client.post(reverse("accounts:login"), {"username": "x", "password": "y"})
    assert response.status_code == 200
