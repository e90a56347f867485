"""URL converters. `<text:name>` is `<str:name>` without control characters: a path segment
with NUL or another control character matches no route, so it is a 404 before any view (or
PostgreSQL, which cannot hold NUL) sees it."""

from django.urls import register_converter
from django.urls.converters import StringConverter


class TextConverter(StringConverter):
    regex = r"[^/\x00-\x1f\x7f]+"


register_converter(TextConverter, "text")
