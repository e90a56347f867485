import django_filters
from django import forms
from django_filters.widgets import QueryArrayWidget
from drf_spectacular.utils import extend_schema_field

from creations.models import Creation
from creations.selectors import (
    SORTS,
    TRENDING_HELP,
    creations_matching,
    creations_sorted,
    creations_with_parts,
    creations_with_tags,
    part_numbers_parse,
)
from creations.tagging import tag_normalize


class TagNamesField(forms.Field):
    """Repeated `tag` parameters (or one comma-separated value), normalised."""

    widget = QueryArrayWidget

    def to_python(self, value):
        if not value:
            return []
        names = []
        for item in value if isinstance(value, list | tuple) else [value]:
            for piece in str(item).split(","):
                if piece.strip():
                    name = tag_normalize(piece)
                    if name not in names:
                        names.append(name)
        return names


@extend_schema_field({"type": "array", "items": {"type": "string"}})
class TagNamesFilter(django_filters.Filter):
    field_class = TagNamesField


class PartNumbersField(forms.Field):
    """Repeated `part` parameters (or one comma-separated value)."""

    widget = QueryArrayWidget

    def to_python(self, value):
        return part_numbers_parse(value or [])


@extend_schema_field({"type": "array", "items": {"type": "string"}})
class PartNumbersFilter(django_filters.Filter):
    field_class = PartNumbersField


class CreationFilter(django_filters.FilterSet):
    tag = TagNamesFilter(
        method="filter_tags",
        help_text="Tag name; repeat the parameter for several tags, all of which must match.",
    )
    part = PartNumbersFilter(
        method="filter_parts",
        help_text="Part number; repeat the parameter for several parts, all of which must match.",
    )
    owner = django_filters.CharFilter(
        field_name="owner__username", help_text="The owner's username."
    )
    q = django_filters.CharFilter(
        method="filter_text",
        max_length=200,
        help_text="Text search over title, description and tags.",
    )
    min_rating = django_filters.NumberFilter(
        field_name="rating",
        lookup_expr="gte",
        min_value=1,
        max_value=5,
        help_text="Only creations rated at least this (1 to 5).",
    )
    ordering = django_filters.ChoiceFilter(
        choices=list(SORTS.items()),
        method="filter_ordering",
        empty_label=None,
        help_text="newest (default), top (a Bayesian average of the rating), trending, "
        f"most_scored. {TRENDING_HELP}",
    )

    class Meta:
        model = Creation
        fields = ["tag", "part", "owner", "q", "min_rating", "ordering"]

    def filter_tags(self, queryset, name, value):
        return creations_with_tags(queryset, value) if value else queryset

    def filter_parts(self, queryset, name, value):
        return creations_with_parts(queryset, value) if value else queryset

    def filter_text(self, queryset, name, value):
        return creations_matching(queryset, value)

    def filter_ordering(self, queryset, name, value):
        return creations_sorted(queryset, value)
