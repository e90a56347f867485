"""Text that comes from outside: what stored text may hold, list parameters, search boxes.

Stored text (titles, descriptions, names, bios, notes) is checked by `validate_line` or
`validate_text`, model-field validators that ModelForms and ModelSerializers run too, so every
page, endpoint and admin form refuses the same characters with a message on the field.

Tags and featured parts arrive as one comma-separated value or as a repeated parameter, in
query strings, form fields, multipart uploads and JSON lists. Every such list goes through
`comma_separated`, which bounds how many values it takes before any other work is done.
"""

import unicodedata
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

# The zero-width joiners are format characters that real text needs (emoji sequences, Persian
# and Indic scripts); line breaks and tabs are text in a description or a bio, nowhere else.
JOINERS = frozenset("\u200c\u200d")
LONG_TEXT_ALLOWED = JOINERS | frozenset("\n\r\t")


def has_control_characters(text: str) -> bool:
    """Whether `text` holds a control, format, surrogate or unassigned character."""
    return any(unicodedata.category(character).startswith("C") for character in text)


def refused_character(text: str, *, allowed: frozenset[str] = frozenset()) -> str | None:
    """The first character stored text may not hold, or None.

    Refused: every character of Unicode's "other" categories (controls such as NUL, format
    characters such as the bidi overrides U+202A-U+202E and U+2066-U+2069, lone surrogates,
    private-use and unassigned code points), except those in `allowed`.
    """
    for character in text:
        if character not in allowed and unicodedata.category(character).startswith("C"):
            return character
    return None


def describe_character(character: str) -> str:
    """`U+202E (RIGHT-TO-LEFT OVERRIDE)`: how an error message names a refused character."""
    name = unicodedata.name(character, "")
    return f"U+{ord(character):04X}" + (f" ({name})" if name else "")


@deconstructible
class PlainTextValidator:
    """Refuse control, format (bidi) and surrogate characters; line breaks only if allowed."""

    def __init__(self, multiline: bool = False):
        self.multiline = multiline

    def __call__(self, value) -> None:
        character = refused_character(
            str(value), allowed=LONG_TEXT_ALLOWED if self.multiline else JOINERS
        )
        if character is not None:
            raise ValidationError(
                "This text contains a character that is not allowed: %(character)s.",
                code="control_character",
                params={"character": describe_character(character)},
            )

    def __eq__(self, other) -> bool:
        return isinstance(other, PlainTextValidator) and other.multiline == self.multiline


validate_line = PlainTextValidator()
validate_text = PlainTextValidator(multiline=True)


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
