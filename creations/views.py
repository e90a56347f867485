from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.html import format_html
from taggit.models import Tag

from npu_site.ratelimit import rate_limited
from scoring.forms import ScoreForm
from scoring.selectors import score_histogram, score_of

from .caching import cache_anonymous_page
from .forms import CreationEditForm, CreationForm, GalleryFilterForm, ReportForm
from .models import Creation, Part, Report
from .selectors import (
    SORTS,
    TRENDING_HELP,
    creation_for_detail,
    gallery_creations,
    part_catalog,
    tag_cloud,
)
from .services import creation_create, creation_delete, creation_update, report_create


def _removal_url(request, key: str, kept: list[str]) -> str:
    remaining = request.GET.copy()
    remaining.setlist(key, kept)
    remaining.pop("page", None)
    return f"{request.path}?{remaining.urlencode()}"


def gallery_context(
    request, *, fixed_tag: str | None = None, fixed_part: str | None = None, owner=None
) -> dict:
    """Filters, sort and one page of creations for the gallery, tag, part and profile pages.

    `fixed_tag` and `fixed_part` are what a tag or part page is about: always applied, never
    removable.
    """
    filters = GalleryFilterForm(request.GET)
    arguments = filters.filters()
    extra_tags = [name for name in arguments["tags"] if name != fixed_tag]
    extra_parts = [number for number in arguments["parts"] if number != fixed_part]
    arguments["tags"] = [fixed_tag, *extra_tags] if fixed_tag else extra_tags
    arguments["parts"] = [fixed_part, *extra_parts] if fixed_part else extra_parts
    creations = gallery_creations(viewer=request.user, owner=owner, **arguments)
    page = Paginator(creations, settings.NPU_GALLERY_PAGE_SIZE).get_page(request.GET.get("page"))
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
    return {
        "page": page,
        "tag_filters": tag_filters,
        "part_filters": part_filters,
        "query": arguments["query"],
        "sort": arguments["sort"] or "newest",
        "sorts": SORTS,
        "trending_help": TRENDING_HELP,
        "is_filtered": bool(extra_tags or extra_parts or arguments["query"]),
        "active_tags": arguments["tags"],
        "reset_url": request.path,
    }


@cache_anonymous_page
def gallery(request):
    return render(request, "creations/creation_list.html", gallery_context(request))


@cache_anonymous_page
def part_list(request):
    query = request.GET.get("q", "")
    parts = part_catalog(query=query)
    page = Paginator(parts, 48).get_page(request.GET.get("page"))
    return render(request, "creations/part_list.html", {"page": page, "query": query})


@cache_anonymous_page
def part_detail(request, part_num):
    part = get_object_or_404(Part.objects.select_related("category"), part_num=part_num)
    context = gallery_context(request, fixed_part=part.part_num)
    return render(request, "creations/part_detail.html", {**context, "part": part})


@cache_anonymous_page
def tag_list(request):
    tags = list(tag_cloud())
    counts = [tag.count for tag in tags]
    low, high = (min(counts), max(counts)) if counts else (0, 0)
    for tag in tags:
        # Five font sizes, spread between the least and the most used tag.
        tag.weight = 1 + (4 * (tag.count - low) // (high - low) if high > low else 0)
    return render(request, "creations/tag_list.html", {"tags": tags})


@cache_anonymous_page
def tag_detail(request, slug):
    tag = get_object_or_404(Tag, slug=slug)
    context = gallery_context(request, fixed_tag=tag.name)
    if context["page"].paginator.count == 0 and not context["is_filtered"]:
        # A tag only hidden creations carry does not exist for the public.
        raise Http404("No such tag.")
    return render(request, "creations/tag_detail.html", {**context, "tag": tag})


def creation_detail(request, pk):
    try:
        creation = creation_for_detail(viewer=request.user, pk=pk)
    except Creation.DoesNotExist as error:
        raise Http404("No such creation.") from error
    own_score = score_of(user=request.user, creation=creation)
    score_form = None
    if creation.can_score(request.user):
        initial = (
            {"creativity": own_score.creativity, "uniqueness": own_score.uniqueness}
            if own_score
            else None
        )
        score_form = ScoreForm(initial=initial)
    has_reported = (
        request.user.is_authenticated and creation.reports.filter(reporter=request.user).exists()
    )
    return render(
        request,
        "creations/creation_detail.html",
        {
            "creation": creation,
            "can_edit": creation.can_edit(request.user),
            "is_owner": request.user.is_authenticated and creation.owner_id == request.user.pk,
            "own_score": own_score,
            "score_form": score_form,
            "histogram": score_histogram(creation=creation) if creation.score_count else None,
            "has_reported": has_reported,
        },
    )


@login_required
@rate_limited(("upload", "user"))
def creation_new(request):
    form = CreationForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            creation = creation_create(owner=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            tags = ", ".join(form.cleaned_data["tags"]) or "none"
            messages.success(request, f"Your creation is published. Tags: {tags}.")
            for match in creation.possible_duplicates.visible_to(request.user)[:3]:
                messages.warning(
                    request,
                    format_html(
                        'This looks like <a href="{}">“{}”</a>. If it is the same build, '
                        "delete this copy; if not, nothing to do.",
                        match.get_absolute_url(),
                        match.title,
                    ),
                )
            return redirect(creation)
    return render(request, "creations/creation_form.html", {"form": form})


def _editable(request, pk) -> Creation:
    creation = get_object_or_404(Creation.objects.visible_to(request.user), pk=pk)
    if not creation.can_edit(request.user):
        raise PermissionDenied("Only the owner or a moderator may change this creation.")
    return creation


@login_required
def creation_edit(request, pk):
    creation = _editable(request, pk)
    form = CreationEditForm(request.POST or None, instance=creation)
    if request.method == "POST" and form.is_valid():
        try:
            creation_update(creation=creation, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            tags = ", ".join(form.cleaned_data["tags"]) or "none"
            messages.success(request, f"Your changes are saved. Tags: {tags}.")
            return redirect(creation)
    return render(request, "creations/creation_form.html", {"form": form, "creation": creation})


@login_required
def creation_remove(request, pk):
    creation = _editable(request, pk)
    if request.method == "POST":
        creation_delete(creation=creation)
        messages.success(request, f"“{creation.title}” is deleted.")
        return redirect("creations:gallery")
    return render(request, "creations/creation_confirm_delete.html", {"creation": creation})


@login_required
def report_new(request, pk):
    creation = get_object_or_404(Creation.objects.visible_to(request.user), pk=pk)
    if creation.owner_id == request.user.pk:
        messages.info(request, "You can't report your own creation; edit or delete it instead.")
        return redirect(creation)
    if Report.objects.filter(creation=creation, reporter=request.user).exists():
        messages.info(request, "You have already reported this creation; thank you.")
        return redirect(creation)
    form = ReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            report_create(reporter=request.user, creation=creation, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Thank you. A moderator will look at it.")
            return redirect(creation)
    return render(request, "creations/report_form.html", {"form": form, "creation": creation})
