"""Tag normalisation: the one place that decides what a tag is.

Forms, the API, the admin (through TAGGIT_TAGS_FROM_STRING) and the demo data all pass tags
through `tags_parse`, so `Technic Pin`, ` technic  pin ` and `technic pin` are one tag.
"""

from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError

from npu_site.text import comma_separated, has_control_characters


def tag_normalize(name: str) -> str:
    """Trim, lower-case and collapse inner whitespace; refuse empty or over-long tags."""
    normalized = " ".join(str(name).split()).lower()
    if not normalized:
        raise ValidationError("A tag cannot be empty.", code="tag_empty")
    limit = settings.NPU_MAX_TAG_LENGTH
    if len(normalized) > limit:
        raise ValidationError(
            "The tag “%(tag)s…” is longer than %(limit)d characters.",
            code="tag_too_long",
            params={"tag": normalized[:20], "limit": limit},
        )
    if has_control_characters(normalized):
        raise ValidationError(
            "Tags cannot contain control or invisible characters.", code="tag_control_character"
        )
    if not any(character.isalnum() for character in normalized):
        raise ValidationError(
            "The tag “%(tag)s” needs at least one letter or digit.",
            code="tag_no_alnum",
            params={"tag": normalized},
        )
    return normalized


def tags_parse(value: str | Iterable[str] | None) -> list[str]:
    """Turn a comma-separated string or a list of strings into normalised, distinct tags.

    Blank entries (a trailing comma, say) are skipped. More than NPU_MAX_TAGS distinct values
    as typed is an error, found before any tag is normalised (so the bound costs nothing):
    eleven spellings of two tags are refused, ten are two tags.
    """
    tags: list[str] = []
    limit = settings.NPU_MAX_TAGS
    for piece in comma_separated(value, limit=limit, noun="tags"):
        tag = tag_normalize(piece)
        if tag not in tags:
            tags.append(tag)
    return tags


def tags_from_string(value: str) -> list[str]:
    """django-taggit's TAGGIT_TAGS_FROM_STRING hook: tags are always comma-separated."""
    return sorted(tags_parse(value))


def tags_to_string(tags) -> str:
    """django-taggit's TAGGIT_STRING_FROM_TAGS hook: how tags are shown in an edit field."""
    return ", ".join(sorted(tag.name for tag in tags))
