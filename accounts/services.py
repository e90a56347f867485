"""Writes to accounts."""

from importlib import import_module

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from npu_site.caching import listings_changed
from npu_site.mail import mail_queue

from .models import MODERATORS_GROUP, User
from .selectors import user_with_email
from .tokens import email_change_token, email_change_token_read, signup_token

EMAIL_TAKEN = "An account with this e-mail address already exists."
LINK_INVALID = (
    "This link is not valid any more: it was used already, it is too old, or the account's "
    "address or password changed since it was sent."
)


@transaction.atomic
def user_set_moderator(*, user: User, is_moderator: bool) -> User:
    """Add a member to the moderators group (with admin access) or take them out of it."""
    group = Group.objects.get(name=MODERATORS_GROUP)
    if is_moderator:
        user.groups.add(group)
        user.is_staff = True
    else:
        user.groups.remove(group)
        user.is_staff = user.is_superuser
    user.save(update_fields=["is_staff"])
    user.__dict__.pop("is_moderator", None)  # drop the cached answer
    return user


def user_create(*, username: str, email: str, password: str) -> User:
    """Register a member; the caller has validated the password against Django's validators."""
    user = User(username=username, email=User.objects.normalize_email(email))
    user.set_password(password)
    user.full_clean(exclude=["password"])
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as error:  # taken between the check above and the insert
        raise ValidationError(EMAIL_TAKEN, code="unique") from error
    return user


@transaction.atomic
def user_update_profile(*, user: User, display_name: str, bio: str) -> User:
    """Change what a member may edit about themselves; the address changes by mail."""
    user.display_name = display_name.strip()
    user.bio = bio.strip()
    # The username is not the member's to change here: a name from before a validator was
    # added must not block an edit of the bio.
    user.full_clean(exclude=["password", "username"])
    user.save(update_fields=["display_name", "bio"])
    listings_changed()  # cards show the display name
    return user


def _send(*, to: str, subject: str, template: str, context: dict) -> None:
    # Sent by the background worker (npu_site.mail), and inline when there is no broker or it is
    # down. A mail server's trouble is logged there, never raised here, as Django's password
    # reset does: it must not change the answer, which would tell a visitor which kind of mail
    # was being sent.
    mail_queue(EmailMessage(subject, render_to_string(template, context), None, [to]))


def signup_request(*, username: str, email: str, base_url: str, next_url: str = "") -> None:
    """Mail a link that finishes signing up, or, if an account has the address already, a note
    to that account's owner. Nothing is stored, and the visitor sees the same answer either
    way: sign-up does not tell anyone which addresses are registered."""
    email = User.objects.normalize_email(email.strip())
    owner = user_with_email(email)
    if owner is None:
        token = signup_token(username=username, email=email, next_url=next_url)
        link = base_url + reverse("accounts:signup_confirm", kwargs={"token": token})
        _send(
            to=email,
            subject="Finish signing up at NPU",
            template="registration/signup_email.txt",
            context={"username": username, "link": link},
        )
    else:
        _send(
            to=owner.email,
            subject="Your NPU account",
            template="registration/signup_taken_email.txt",
            context={
                "user": owner,
                "login_link": base_url + reverse("accounts:login"),
                "reset_link": base_url + reverse("accounts:password_reset"),
            },
        )


def email_change_request(*, user: User, email: str, base_url: str) -> None:
    """Mail a link to `email` that moves the member to it, or, if another account has that
    address, a note to its owner. The member's address stays until the link is opened, and
    the answer is the same either way: nobody learns which addresses are registered."""
    email = User.objects.normalize_email(email.strip())
    owner = user_with_email(email, exclude=user)
    if owner is None:
        token = email_change_token(user=user, email=email)
        link = base_url + reverse("accounts:email_confirm", kwargs={"token": token})
        _send(
            to=email,
            subject="Confirm your new NPU e-mail address",
            template="accounts/email_change_email.txt",
            context={"user": user, "link": link},
        )
    else:
        _send(
            to=owner.email,
            subject="Your NPU account",
            template="accounts/email_change_taken_email.txt",
            context={"user": owner},
        )


def email_change_confirm(*, token: str) -> User:
    """Move a member to the address a link confirms; a ValidationError if it cannot be."""
    found = email_change_token_read(token)
    if found is None:
        raise ValidationError(LINK_INVALID, code="invalid_link")
    user, email = found
    user.email = email
    user.clean_fields(exclude=[f.name for f in User._meta.fields if f.name != "email"])
    user.validate_constraints()  # another account may have taken it since
    try:
        with transaction.atomic():
            user.save(update_fields=["email"])
    except IntegrityError as error:
        raise ValidationError(EMAIL_TAKEN, code="unique") from error
    return user


@transaction.atomic
def api_token_regenerate(*, user: User) -> Token:
    """Replace the member's API token; the old one stops working at once."""
    Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user)


def api_token_get_or_create(*, user: User) -> Token:
    """The member's API token, made on first use."""
    token, _ = Token.objects.get_or_create(user=user)
    return token


def user_sessions_end(*, user: User, keep_session_key: str | None = None) -> int:
    """Delete every session of the member but `keep_session_key`; return how many.

    Sessions are deleted through the session engine, so a cached copy (cached_db) goes with
    the database row. Django cannot ask the table whose a session is, so each live session is
    decoded: fine for a site of this size; a table of sessions by member would scale further.
    """
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    ended = 0
    live = Session.objects.filter(expire_date__gt=timezone.now()).exclude(
        session_key=keep_session_key
    )
    for session in live.iterator():
        if session.get_decoded().get(SESSION_KEY) == str(user.pk):
            store.delete(session.session_key)
            ended += 1
    return ended


@transaction.atomic
def user_password_changed(*, user: User, current_session_key: str | None = None) -> None:
    """After a password change or reset, whoever had the old password, a session or the API
    token loses access: the token is deleted (the token page makes a new one) and every
    session of the member ends except `current_session_key`, the browser that changed it."""
    Token.objects.filter(user=user).delete()
    user_sessions_end(user=user, keep_session_key=current_session_key)
