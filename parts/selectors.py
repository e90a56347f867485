"""Reads of the parts catalog: parsing and resolving part numbers, searching the catalog."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from npu_site.text import comma_separated, has_control_characters, search_text

from .models import Part


def part_numbers_parse(value) -> list[str]:
    """Part numbers (or exact part names) from a comma-separated string or a list, in order.

    At most NPU_MAX_PARTS distinct values; control characters, which no part number or name
    contains, are refused. Raises ValidationError.
    """
    numbers: list[str] = []
    for piece in comma_separated(value, limit=settings.NPU_MAX_PARTS, noun="parts"):
        piece = " ".join(piece.split())
        if has_control_characters(piece):
            raise ValidationError(
                "Part numbers cannot contain control characters.", code="part_control_character"
            )
        piece = piece[:250].rstrip()
        if piece not in numbers:
            numbers.append(piece)
    return numbers


def parts_resolve(values: list[str]) -> tuple[list[Part], list[str]]:
    """The parts named by number or, failing that, by exact name (any letter case); and the
    values that matched nothing."""
    lowered = {value.lower() for value in values}
    by_number: dict[str, Part] = {}
    by_name: dict[str, Part] = {}
    candidates = (
        Part.objects.annotate(number_lower=Lower("part_num"), name_lower=Lower("name"))
        .filter(Q(number_lower__in=lowered) | Q(name_lower__in=lowered))
        .order_by("part_num")
    )
    for part in candidates:
        by_number[part.number_lower] = part
        by_name.setdefault(part.name_lower, part)
    found: list[Part] = []
    unknown: list[str] = []
    for value in values:
        part = by_number.get(value.lower()) or by_name.get(value.lower())
        if part is None:
            unknown.append(value)
        elif part not in found:
            found.append(part)
    return found, unknown


def parts_search(*, query: str = "") -> QuerySet[Part]:
    """Parts whose number starts with `query` or whose name holds every word of it."""
    parts = Part.objects.select_related("category")
    query = search_text(query, 100)
    if query:
        every_word_in_name = Q()
        for word in query.split():
            every_word_in_name &= Q(name__icontains=word)
        parts = parts.filter(Q(part_num__istartswith=query) | every_word_in_name)
    return parts
