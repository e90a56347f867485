"""Page counts that do not scan a list on every request.

`Paginator.count` is a COUNT(*) over the whole filtered list: on a large site the most
expensive part of a page that shows 24 rows, whatever the plan (a count that stops after a
thousand rows still walks tens of thousands of index entries for a filter that matches one
creation in a hundred). Here each list of the models listings show (NPU_LISTED_MODELS) is
counted once and the figure kept under the listings token (npu_site.caching): exact after
every upload, edit, hide or tag change, which replace the token, and at most
NPU_COUNT_CACHE_SECONDS old for the one filter scores move (`min_rating`). Pages go no deeper
than NPU_MAX_PAGE_OFFSET rows.
"""

import hashlib
from functools import cached_property

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import QuerySet

from .caching import listings_cached


def list_count(object_list) -> int:
    """How many items `object_list` holds; lists of NPU_LISTED_MODELS (what listings show,
    whose changes replace the listings token) counted once per change to listings."""
    if not isinstance(object_list, QuerySet):
        return len(object_list)
    known = getattr(object_list, "known_count", None)
    if known is not None:  # a figure kept exact elsewhere, e.g. a creation's score_count
        return known
    if object_list.model._meta.label not in settings.NPU_LISTED_MODELS:
        return object_list.count()
    if object_list.query.is_empty():
        return 0
    unordered = object_list.order_by()
    sql, params = unordered.query.sql_with_params()
    digest = hashlib.sha256(repr((unordered.db, sql, params)).encode()).hexdigest()
    return listings_cached(f"count:{digest}", unordered.count)


class CountingPaginator(Paginator):
    """Django's Paginator with `list_count` as its count, and pages only as deep as
    NPU_MAX_PAGE_OFFSET rows: a page deeper than that would read every row before it (an
    OFFSET), however the list is indexed. Past it, a page is "no such page" (the API's 404,
    the pages' last page); filters narrow the list instead, as on the sites members know.
    Pages and the API use it."""

    @cached_property
    def count(self) -> int:
        return list_count(self.object_list)

    @cached_property
    def num_pages(self) -> int:
        reachable = max(1, -(-settings.NPU_MAX_PAGE_OFFSET // self.per_page))
        return min(super().num_pages, reachable)
