"""Log-in: which account a username or an e-mail address names, and how tries are counted."""

import unicodedata

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError

from npu_site.ratelimit import body_field, identifier_normalised, username_key

from .models import User
from .selectors import user_with_email


def login_identifier(value: str) -> str:
    """A log-in name as the backend looks it up: NFKC (as Django's username field does, so
    the log-in page and the API agree) and trimmed."""
    return unicodedata.normalize("NFKC", str(value)).strip()


def user_for_email(identifier: str) -> User | None:
    """The account an e-mail address logs in to (any letter case), or None."""
    return user_with_email(login_identifier(identifier))


class AccountRestrictedError(ValidationError):
    """The password is right but a moderator suspended or banned the account: the log-in
    page and the token endpoint show why and until when, never "wrong password"."""

    def __init__(self, user: User):
        super().__init__(user.restriction_message, code="restricted")


class UsernameOrEmailBackend(ModelBackend):
    """Log in with the username or the e-mail address (any letter case). A suspended or
    banned member is refused: with the right password, by AccountRestrictedError (raised out
    of `authenticate()`, which the log-in forms show as their error); their sessions stop
    working on their next request (`user_can_authenticate`, which `get_user` asks)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if username is None or password is None:
            return None
        username = login_identifier(username)
        if "@" in username:
            user = user_for_email(username)
            if user is None:
                User().set_password(password)  # same work as a real check: no timing leak
                return None
            username = user.get_username()
        try:
            user = User._default_manager.get_by_natural_key(username)
        except User.DoesNotExist:
            User().set_password(password)  # as ModelBackend does: no timing leak
            return None
        if not user.check_password(password):
            return None
        if user.is_active and user.is_restricted:
            raise AccountRestrictedError(user)
        return user if self.user_can_authenticate(user) else None

    def user_can_authenticate(self, user) -> bool:
        return super().user_can_authenticate(user) and not getattr(user, "is_restricted", False)


def login_key(group, request) -> str:
    """The log-in limit's key: one budget per account, however the visitor spells it.

    An e-mail address counts against the account it logs in to, found by the backend's own
    lookup; a username, or an address no account has, counts as itself, case-folded and
    NFKC-normalised, so `Member`, `MEMBER`, `ſim` (long s) and `member@example.com` are one
    budget.
    """
    identifier = username_key(group, request)
    if "@" in identifier:
        # Look up what was typed, exactly as authenticate() does.
        user = user_for_email(body_field(request, "username"))
        if user is not None:
            return identifier_normalised(user.get_username())
    return identifier
