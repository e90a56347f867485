"""Page counts that do not scan a large list on every request.

`Paginator.count` is a COUNT(*) over the whole filtered list: on a large site the most
expensive part of a page that shows 24 rows. Here a list is counted exactly up to
NPU_EXACT_COUNT_BOUND rows (a count that stops there reads at most that many); a longer list
is counted once and the figure cached under the listings token (npu_site.caching), so it is
exact after every upload, edit or hide, and at most NPU_COUNT_CACHE_SECONDS old for filters
that scores move (`min_rating`). Pages go no deeper than NPU_MAX_PAGE_OFFSET rows.
"""

import hashlib
from functools import cached_property

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import QuerySet

from .caching import listings_cached


def list_count(object_list) -> int:
    """How many items `object_list` holds: exactly below the bound, cached above it."""
    if not isinstance(object_list, QuerySet):
        return len(object_list)
    bound = settings.NPU_EXACT_COUNT_BOUND
    unordered = object_list.order_by()
    counted = unordered[: bound + 1].count()
    if counted <= bound:
        return counted
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
