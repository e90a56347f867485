"""The one FilterSet for lists of creations: the gallery, tag, part and profile pages and
`GET /api/v1/creations/` all filter through it.

Tags and parts in a query string go through the same parsers as uploads (`tags_parse`,
`part_numbers_parse`): a value they refuse (a control character, an over-long tag, more than
ten values) makes the whole request a 400 naming the parameter, on pages and API alike, rather
than being dropped silently. Only the sort order differs: an unknown `sort` on a page shows
the newest first, while the API refuses an unknown `ordering`.
"""

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Subquery
from django_filters.fields import ChoiceField
from django_filters.widgets import QueryArrayWidget
from drf_spectacular.utils import extend_schema_field

from parts.selectors import part_numbers_parse

from .models import SORTS, Creation
from .ranking import TRENDING_HELP
from .tagging import tags_parse


class ListField(forms.Field):
    """Repeated parameters, or one comma-separated value, through `parser`."""

    widget = QueryArrayWidget
    parser = staticmethod(list)

    def to_python(self, value):
        if not value:
            return []
        return self.parser(value)

    def validate(self, value):
        # Parsing has validated; an empty list is no filter, not a missing value.
        pass


class TagNamesField(ListField):
    parser = staticmethod(tags_parse)


class PartNumbersField(ListField):
    parser = staticmethod(part_numbers_parse)


@extend_schema_field({"type": "array", "items": {"type": "string"}})
class TagNamesFilter(django_filters.Filter):
    field_class = TagNamesField


@extend_schema_field({"type": "array", "items": {"type": "string"}})
class PartNumbersFilter(django_filters.Filter):
    field_class = PartNumbersField


class LenientChoiceField(ChoiceField):
    """A choice that falls back to the default when unknown: what a page's sort box sends."""

    def to_python(self, value):
        value = super().to_python(value)
        return value if self.valid_value(value) else ""


class SortFilter(django_filters.ChoiceFilter):
    """One of SORTS. The API refuses an unknown value (400); pages pass `lenient=True` and show
    the default order instead, since their sort box can only send known values."""

    def __init__(self, *, lenient: bool = False, **kwargs):
        if lenient:
            self.field_class = LenientChoiceField
        kwargs.setdefault("choices", list(SORTS.items()))
        kwargs.setdefault("empty_label", None)
        kwargs.setdefault(
            "help_text",
            "newest (default), top (a Bayesian average of the rating), trending, "
            f"most_scored. {TRENDING_HELP}",
        )
        super().__init__(**kwargs)

    def filter(self, queryset, value):
        return queryset.sorted_by(value) if value else queryset


class CreationFilter(django_filters.FilterSet):
    tag = TagNamesFilter(
        method="filter_tags",
        help_text="Tag name; repeat the parameter for several tags, all of which must match "
        "(at most 10).",
    )
    part = PartNumbersFilter(
        method="filter_parts",
        help_text="Part number; repeat the parameter for several parts, all of which must "
        "match (at most 10).",
    )
    owner = django_filters.CharFilter(method="filter_owner", help_text="The owner's username.")
    q = django_filters.CharFilter(
        method="filter_text",
        max_length=200,
        label="Search",
        help_text="Text search over title, description and tags.",
    )
    min_rating = django_filters.NumberFilter(
        field_name="rating",
        lookup_expr="gte",
        min_value=1,
        max_value=5,
        help_text="Only creations rated at least this (1 to 5).",
    )
    ordering = SortFilter()

    class Meta:
        model = Creation
        fields = ["tag", "part", "owner", "q", "min_rating", "ordering"]

    def filter_tags(self, queryset, name, value):
        return queryset.with_tags(value)

    def filter_parts(self, queryset, name, value):
        return queryset.with_parts(value)

    def filter_owner(self, queryset, name, value):
        # The owner's id as a scalar subquery, not a join: PostgreSQL then reads the member's
        # newest creations straight from the (owner, created_at) index instead of sorting them.
        owner = get_user_model().objects.filter(username=value).values("pk")[:1]
        return queryset.filter(owner_id=Subquery(owner))

    def filter_text(self, queryset, name, value):
        return queryset.matching(value)


class GalleryFilter(CreationFilter):
    """The pages' names for the same filters: `sort` rather than the API's `ordering`."""

    sort = SortFilter(lenient=True, help_text=TRENDING_HELP)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.filters["ordering"]
