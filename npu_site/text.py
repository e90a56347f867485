"""Parsing of text that comes from outside: list parameters and search boxes.

Tags and featured parts arrive as one comma-separated value or as a repeated parameter, in
query strings, form fields, multipart uploads and JSON lists. Every such list goes through
`comma_separated`, which bounds how many values it takes before any other work is done.
"""

import unicodedata
from collections.abc import Iterable

from django.core.exceptions import ValidationError


def has_control_characters(text: str) -> bool:
    """Whether `text` holds a control, format, surrogate or unassigned character."""
    return any(unicodedata.category(character).startswith("C") for character in text)


def comma_separated(value: str | Iterable[str] | None, *, limit: int, noun: str) -> list[str]:
    """The distinct, non-blank pieces of a comma-separated string, or of a list whose items may
    hold commas, stripped and in order.

    More than `limit` distinct pieces is a ValidationError, raised as soon as the piece over
    the limit is seen, so a huge list costs one split and nothing more.
    """
    if value is None:
        return []
    items = [value] if isinstance(value, str) else value
    pieces: dict[str, None] = {}
    for item in items:
        for piece in str(item).split(","):
            piece = piece.strip()
            if not piece or piece in pieces:
                continue
            pieces[piece] = None
            if len(pieces) > limit:
                raise ValidationError(
                    "At most %(limit)d %(noun)s; you gave more.",
                    code="too_many",
                    params={"limit": limit, "noun": noun},
                )
    return list(pieces)


def search_text(text: str, limit: int = 200) -> str:
    """A search box's text made safe to query with: no control characters, single spaces."""
    kept = "".join(c for c in str(text) if not unicodedata.category(c).startswith("C"))
    return " ".join(kept.split())[:limit]
