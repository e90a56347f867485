"""Signed, expiring links sent by mail: finish signing up, confirm a new e-mail address.

Nothing is stored until a link is opened: the link itself carries what it confirms, signed
with the secret key, and is good for as long as a password-reset link.
"""

from django.conf import settings
from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac

from .models import User

SIGNUP_SALT = "accounts.signup"
EMAIL_CHANGE_SALT = "accounts.email_change"


def signup_token(*, username: str, email: str, next_url: str = "") -> str:
    return signing.dumps({"username": username, "email": email, "next": next_url}, salt=SIGNUP_SALT)


def signup_token_read(token: str) -> dict | None:
    """The sign-up a link asks for ({username, email, next}), or None if bad or too old."""
    try:
        details = signing.loads(token, salt=SIGNUP_SALT, max_age=settings.PASSWORD_RESET_TIMEOUT)
    except signing.BadSignature:  # includes SignatureExpired
        return None
    if not isinstance(details, dict) or not {"username", "email"} <= details.keys():
        return None
    return {"next": "", **details}


def _account_state(user: User) -> str:
    # Changes with the address and the password, so a link works once and dies with either.
    return salted_hmac(EMAIL_CHANGE_SALT, f"{user.pk}\0{user.email}\0{user.password}").hexdigest()


def email_change_token(*, user: User, email: str) -> str:
    return signing.dumps(
        {"user": user.pk, "email": email, "state": _account_state(user)}, salt=EMAIL_CHANGE_SALT
    )


def email_change_token_read(token: str) -> tuple[User, str] | None:
    """The active member and the new address a link confirms, or None if the link is bad,
    too old, used already, or older than the member's last address or password change."""
    try:
        details = signing.loads(
            token, salt=EMAIL_CHANGE_SALT, max_age=settings.PASSWORD_RESET_TIMEOUT
        )
        user = User.objects.get(pk=details["user"], is_active=True)
    except (signing.BadSignature, KeyError, TypeError, ValueError, User.DoesNotExist):
        return None
    if not isinstance(details["email"], str) or not constant_time_compare(
        str(details.get("state")), _account_state(user)
    ):
        return None
    return user, details["email"]
