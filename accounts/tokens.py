"""Signed, expiring links sent by mail: verify an address, confirm a new e-mail address.

Nothing is stored for a link: the link itself carries what it confirms, signed with the
secret key (each kind of link with a salt of its own), and is good for as long as a
password-reset link. Each also carries a digest of the account's state, so it works once and
dies when that state changes.
"""

from django.conf import settings
from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac

from .models import User

EMAIL_VERIFY_SALT = "accounts.email_verify"
EMAIL_CHANGE_SALT = "accounts.email_change"


def _read(token: str, *, salt: str) -> tuple[User, dict] | None:
    """The active member a link names and what it carries, or None if it is bad or too old."""
    try:
        details = signing.loads(token, salt=salt, max_age=settings.PASSWORD_RESET_TIMEOUT)
        user = User.objects.get(pk=details["user"], is_active=True)
    except (signing.BadSignature, KeyError, TypeError, ValueError, User.DoesNotExist):
        return None  # BadSignature includes SignatureExpired
    return user, details


def _verification_state(user: User) -> str:
    # Changes with the address and once it is verified: the link works once, for one address.
    return salted_hmac(
        EMAIL_VERIFY_SALT, f"{user.pk}\0{user.email}\0{user.email_verified}"
    ).hexdigest()


def email_verify_token(*, user: User, next_url: str = "") -> str:
    return signing.dumps(
        {"user": user.pk, "state": _verification_state(user), "next": next_url},
        salt=EMAIL_VERIFY_SALT,
    )


def email_verify_token_read(token: str) -> tuple[User, str] | None:
    """The member a verification link is for and where to go next, or None if the link is
    bad, too old, used already, or older than the member's last address change."""
    found = _read(token, salt=EMAIL_VERIFY_SALT)
    if found is None:
        return None
    user, details = found
    if not constant_time_compare(str(details.get("state")), _verification_state(user)):
        return None
    next_url = details.get("next")
    return user, next_url if isinstance(next_url, str) else ""


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
    found = _read(token, salt=EMAIL_CHANGE_SALT)
    if found is None:
        return None
    user, details = found
    if not isinstance(details.get("email"), str) or not constant_time_compare(
        str(details.get("state")), _account_state(user)
    ):
        return None
    return user, details["email"]
