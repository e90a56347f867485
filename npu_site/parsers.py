"""Request body parsers for the API that refuse text no field may hold.

JSON can spell characters that UTF-8 cannot carry: a lone surrogate (`"\\ud800"`) parses into
a Python string that cannot be encoded again, so any answer that repeats it (a choice field's
"is not a valid choice", say) fails to render. NUL is refused too: PostgreSQL text cannot hold
it. Both are refused here, once, for every endpoint, with a 400 naming the field.
"""

from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import JSONParser

from .text import describe_character


def _first_bad_character(text: str) -> str | None:
    for character in text:
        if character == "\x00" or "\ud800" <= character <= "\udfff":
            return character
    return None


def _check(value, path: str) -> None:
    if isinstance(value, str):
        character = _first_bad_character(value)
        if character is not None:
            name = path or "detail"
            raise ValidationError(
                {
                    name: [
                        f"This text contains a character that is not allowed: "
                        f"{describe_character(character)}."
                    ]
                }
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            _check(key, path)
            _check(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check(item, f"{path}[{index}]" if path else f"[{index}]")


class StrictJSONParser(JSONParser):
    """DRF's JSON parser, refusing lone surrogates and NUL in any key or string."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
            _check(data, "")
        except RecursionError as error:  # absurdly deep nesting
            raise ParseError("The JSON body is nested too deeply.") from error
        return data
