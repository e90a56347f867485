"""The gallery shared by every page that lists creations: the gallery itself, a tag, a part
and a member's profile. Each page passes what it is about; the query string adds filters."""

from django.conf import settings

from npu_site.paginator import CountingPaginator

from .filters import GalleryFilter
from .models import DEFAULT_SORT, SORTS
from .ranking import TRENDING_HELP
from .selectors import gallery_creations
from .visibility import mark_scores_visible


def _removal_url(request, key: str, kept: list[str]) -> str:
    remaining = request.GET.copy()
    remaining.setlist(key, kept)
    remaining.pop("page", None)
    return f"{request.path}?{remaining.urlencode()}"


def gallery_context(
    request, *, fixed_tag: str | None = None, fixed_part: str | None = None, owner=None
) -> dict:
    """Filters, sort and one page of creations, and the status code to answer with.

    `fixed_tag` and `fixed_part` are what a tag or part page is about: always applied, never
    removable. Filters the parsers refuse make the page a 400 that says why, with no results.
    """
    creations = gallery_creations(owner=owner)
    if fixed_tag:
        creations = creations.with_tags([fixed_tag])
    if fixed_part:
        creations = creations.with_parts([fixed_part])
    filters = GalleryFilter(request.GET, queryset=creations)
    valid = filters.is_valid()
    cleaned = filters.form.cleaned_data if valid else {}
    results = filters.qs if valid else creations.none()
    page = CountingPaginator(results, settings.NPU_GALLERY_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    # The cards show a rating only where the viewer may see it (blind scoring).
    page.object_list = list(page.object_list)
    mark_scores_visible(request.user, page.object_list)
    extra_tags = [name for name in cleaned.get("tag", []) if name != fixed_tag]
    extra_parts = [number for number in cleaned.get("part", []) if number != fixed_part]
    tag_filters = [{"name": fixed_tag, "remove_url": None}] if fixed_tag else []
    tag_filters += [
        {
            "name": name,
            "remove_url": _removal_url(request, "tag", [t for t in extra_tags if t != name]),
        }
        for name in extra_tags
    ]
    part_filters = [
        {
            "name": number,
            "remove_url": _removal_url(request, "part", [p for p in extra_parts if p != number]),
        }
        for number in extra_parts
    ]
    query = cleaned.get("q") or ""
    return {
        "page": page,
        "status": 200 if valid else 400,
        "filter_errors": None if valid else filters.errors,
        "tag_filters": tag_filters,
        "part_filters": part_filters,
        "query": query,
        "sort": cleaned.get("sort") or DEFAULT_SORT,
        "sorts": SORTS,
        "trending_help": TRENDING_HELP,
        "is_filtered": bool(extra_tags or extra_parts or query or not valid),
        "active_tags": [fixed_tag, *extra_tags] if fixed_tag else extra_tags,
        "reset_url": request.path,
    }
