"""Writes to accounts."""

import logging
from importlib import import_module

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from npu_site.caching import listings_changed
from npu_site.mail import mail_queue

from .models import MODERATORS_GROUP, Restriction, User
from .selectors import user_with_email
from .signals import member_deleting, member_restricted
from .tokens import (
    email_change_token,
    email_change_token_read,
    email_verify_token,
    email_verify_token_read,
)

EMAIL_TAKEN = "An account with this e-mail address already exists."
LINK_INVALID = (
    "This link is not valid any more: it was used already, it is too old, or the account's "
    "address or password changed since it was sent."
)
ALREADY_VERIFIED = "Your e-mail address is confirmed already."

logger = logging.getLogger(__name__)


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


def user_create(*, username: str, email: str, password: str, email_verified: bool = True) -> User:
    """Register a member; the caller has validated the password against Django's validators.

    Sign-up makes members unverified (`signup_create`); members made any other way count as
    verified, as `create_user()` does."""
    user = User(
        username=username, email=User.objects.normalize_email(email), email_verified=email_verified
    )
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


@transaction.atomic
def signup_create(
    *, username: str, email: str, password: str, base_url: str, next_url: str = ""
) -> User | None:
    """Sign a visitor up: make an unverified account and mail a link that verifies its
    address (`email_verify`), or, if an account has the address already, make nothing and
    mail that account's owner a note. The visitor gets the same answer either way, and the
    same work is done (the password is hashed either way): sign-up does not tell anyone which
    addresses are registered. The caller has checked the username is free and validated the
    password; a username taken meanwhile is a ValidationError on `username`. Returns the new
    account, or None when the address was taken."""
    email = User.objects.normalize_email(email.strip())
    owner = user_with_email(email)
    if owner is None:
        try:
            user = user_create(
                username=username, email=email, password=password, email_verified=False
            )
        except ValidationError:
            owner = user_with_email(email)
            if owner is None:  # not the address: the username, taken since the form's check
                raise
        else:
            email_verification_send(user=user, base_url=base_url, next_url=next_url)
            return user
    else:
        make_password(password)  # as long as making an account takes
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
    return None


def email_verification_send(*, user: User, base_url: str, next_url: str = "") -> None:
    """Mail the member a link that verifies their address; a ValidationError if it is
    verified already."""
    if user.email_verified:
        raise ValidationError(ALREADY_VERIFIED, code="already_verified")
    token = email_verify_token(user=user, next_url=next_url)
    _send(
        to=user.email,
        subject="Confirm your NPU e-mail address",
        template="accounts/email_verify_email.txt",
        context={
            "user": user,
            "link": base_url + reverse("accounts:email_verify", kwargs={"token": token}),
        },
    )


@transaction.atomic
def email_verify(*, token: str) -> tuple[User, str]:
    """Mark the address a verification link was mailed to as verified; return the member and
    where the link asks to go next. A ValidationError if the link is bad, too old, used
    already, or older than the member's last address change."""
    found = email_verify_token_read(token)
    if found is None:
        raise ValidationError(LINK_INVALID, code="invalid_link")
    user, next_url = found
    # Only the row the link was made for: an address changed meanwhile stays unverified.
    updated = User.objects.filter(pk=user.pk, email=user.email, email_verified=False).update(
        email_verified=True
    )
    if not updated:
        raise ValidationError(LINK_INVALID, code="invalid_link")
    user.email_verified = True
    return user, next_url


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


@transaction.atomic
def email_change_confirm(*, token: str, base_url: str) -> User:
    """Move a member to the address a link confirms, verified (the link was opened from it),
    and tell the old address of the change; a ValidationError if it cannot be."""
    found = email_change_token_read(token)
    if found is None:
        raise ValidationError(LINK_INVALID, code="invalid_link")
    user, email = found
    old_email = user.email
    user.email = email
    user.email_verified = True
    user.clean_fields(exclude=[f.name for f in User._meta.fields if f.name != "email"])
    user.validate_constraints()  # another account may have taken it since
    try:
        with transaction.atomic():
            user.save(update_fields=["email", "email_verified"])
    except IntegrityError as error:
        raise ValidationError(EMAIL_TAKEN, code="unique") from error
    if old_email != email:
        _send(
            to=old_email,
            subject="Your NPU e-mail address was changed",
            template="accounts/email_changed_notice_email.txt",
            context={
                "user": user,
                "email": email,
                "reset_link": base_url + reverse("accounts:password_reset"),
            },
        )
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


# Suspensions, bans and trust. moderation.members checks who may and writes the log; these
# only change the account and tell the apps that hold the member's data (accounts.signals).


def _locked(user: User) -> User:
    return User.objects.select_for_update().get(pk=user.pk)


@transaction.atomic
def user_restriction_set(*, user: User, restriction: str, reason: str, ends_at=None) -> User:
    """Suspend (until `ends_at`, or until lifted when None) or ban a member: their sessions
    end, their API token is refused with the reason (accounts.api.authentication) and works
    again once lifted, their creations are hidden and their scores stop counting (the
    receivers of `member_restricted`, in this transaction)."""
    if restriction not in Restriction.values:
        raise ValueError(f"Unknown restriction {restriction!r}")
    locked = _locked(user)
    locked.restriction = restriction
    locked.restriction_reason = reason
    locked.restricted_at = timezone.now()
    locked.restriction_ends_at = ends_at if restriction == Restriction.SUSPENDED else None
    locked.save(
        update_fields=[
            "restriction",
            "restriction_reason",
            "restricted_at",
            "restriction_ends_at",
        ]
    )
    user_sessions_end(user=locked)
    member_restricted.send(sender=User, user=locked, restricted=True)
    listings_changed()
    return locked


@transaction.atomic
def user_restriction_lift(*, user: User) -> User:
    """End a member's suspension or ban: they log in again, their token works, their
    creations hidden with them come back and their scores count again."""
    locked = _locked(user)
    locked.restriction = ""
    locked.restriction_reason = ""
    locked.restricted_at = None
    locked.restriction_ends_at = None
    locked.save(
        update_fields=[
            "restriction",
            "restriction_reason",
            "restricted_at",
            "restriction_ends_at",
        ]
    )
    member_restricted.send(sender=User, user=locked, restricted=False)
    listings_changed()
    return locked


@transaction.atomic
def user_trust_set(*, user: User, trusted: bool) -> User:
    """Trust a member (their uploads skip the review of first uploads) or stop trusting them."""
    user.trusted = bool(trusted)
    user.save(update_fields=["trusted"])
    return user


# Account deletion. The apps that hold a member's data connect to `member_deleting` and
# delete or anonymise their part in this transaction (accounts cannot import them).

WRONG_PASSWORD = "That is not your password."


@transaction.atomic
def user_delete(*, user: User, password: str | None = None, actor: User | None = None) -> None:
    """Delete an account with everything that is the member's: creations and their files,
    scores (every affected aggregate recomputed), favourites, follows, notifications and data
    exports; comments stay as a "deleted member"'s. The member's own request passes their
    `password`, which must match (a 400 naming `password` otherwise, nothing deleted); the
    admin passes none, and its user as `actor` (moderation logs it)."""
    if password is not None and (
        not isinstance(password, str) or not user.check_password(password)
    ):
        raise ValidationError({"password": WRONG_PASSWORD})
    locked = _locked(user)
    export_names = list(
        locked.data_exports.exclude(file_name="").values_list("file_name", flat=True)
    )
    member_deleting.send(sender=User, user=locked, actor=actor)
    locked.delete()
    transaction.on_commit(lambda: _stored_files_delete(export_names))
    # Their profile page and every listing that showed their creations.
    listings_changed()


def _stored_files_delete(names) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except Exception:
            logger.exception("Could not delete stored file %s", name)
