"""Reads of accounts."""

import unicodedata

from npu_site.text import JOINERS, refused_character

from .models import User

EMAIL_MAX_LENGTH = User._meta.get_field("email").max_length


def user_with_email(email: str, *, exclude: User | None = None) -> User | None:
    """The account whose address is `email` in any letter case, as Unicode compares them.

    PostgreSQL's UPPER() (behind `iexact`) also matches a dotless ı to an i; Unicode's
    case-insensitive comparison (NFKC and casefold, as Django's password reset uses) and the
    unique constraint on LOWER(email) do not, so neither does this.
    """
    # What no address can be (as the model field's validators say) never reaches the database:
    # PostgreSQL refuses NUL in a query, SQLite a LIKE pattern (iexact) over 50,000 bytes.
    if len(email) > EMAIL_MAX_LENGTH or refused_character(email, allowed=JOINERS):
        return None
    candidates = User.objects.filter(email__iexact=email)
    if exclude is not None:
        candidates = candidates.exclude(pk=exclude.pk)
    folded = unicodedata.normalize("NFKC", email).casefold()
    return next(
        (u for u in candidates if unicodedata.normalize("NFKC", u.email).casefold() == folded),
        None,
    )
