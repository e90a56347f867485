"""Part pages: the catalog, and every published creation featuring one part."""

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from creations.gallery import gallery_context
from creations.selectors import part_catalog
from npu_site.caching import cache_anonymous_page

from .models import Part

PARTS_PAGE_SIZE = 48


@cache_anonymous_page
def part_list(request):
    query = request.GET.get("q", "")
    parts = part_catalog(query=query)
    page = Paginator(parts, PARTS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "parts/part_list.html", {"page": page, "query": query})


@cache_anonymous_page
def part_detail(request, part_num):
    part = get_object_or_404(Part.objects.select_related("category"), part_num=part_num)
    context = gallery_context(request, fixed_part=part.part_num)
    return render(
        request, "parts/part_detail.html", {**context, "part": part}, status=context["status"]
    )
