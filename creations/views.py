from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.html import format_html
from taggit.models import Tag

from npu_site.caching import cache_anonymous_page
from npu_site.ratelimit import rate_limited
from npu_site.views import media_file_response

from .forms import CreationEditForm, CreationForm
from .gallery import gallery_context
from .models import Creation, validate_upload_key
from .selectors import creation_by_upload_key, creation_for_detail, tag_cloud, tag_is_public
from .services import (
    EmailNotVerifiedError,
    creation_create_once,
    creation_delete,
    creation_update,
    creation_upload_check,
)


@cache_anonymous_page
def gallery(request):
    context = gallery_context(request)
    return render(request, "creations/creation_list.html", context, status=context["status"])


@cache_anonymous_page
def tag_list(request):
    # The most used tags: a cloud of thousands says nothing and costs a lot to draw.
    tags = tag_cloud(limit=settings.NPU_TAG_CLOUD_SIZE)
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
    if context["page"].paginator.count == 0 and not tag_is_public(tag=tag):
        # A tag only hidden creations carry does not exist for the public, filtered or not.
        raise Http404("No such tag.")
    return render(
        request, "creations/tag_detail.html", {**context, "tag": tag}, status=context["status"]
    )


def creation_media(request, path):
    """A creation's picture or thumbnail from the local disk, to who may see the creation.

    A hidden creation's files are a 404 for everyone else, as the creation is, and never
    publicly cacheable; a deleted creation's files are gone from the disk.
    """
    status = (
        Creation.objects.visible_to(request.user)
        .filter(Q(image=path) | Q(thumbnail=path))
        .values_list("status", flat=True)
        .first()
    )
    if status is None:
        raise Http404("No such file.")
    return media_file_response(path, public=status == Creation.Status.PUBLISHED)


@cache_anonymous_page(scope=("creation", "pk"))
def creation_detail(request, pk):
    try:
        creation = creation_for_detail(viewer=request.user, pk=pk)
    except Creation.DoesNotExist as error:
        raise Http404("No such creation.") from error
    return render(
        request,
        "creations/creation_detail.html",
        {
            "creation": creation,
            "can_edit": creation.can_edit(request.user),
        },
    )


@login_required
@rate_limited(("upload", "user"))
def creation_new(request):
    try:
        creation_upload_check(owner=request.user)
    except EmailNotVerifiedError:
        # The notice and a button that mails the link again, instead of the form; a post is
        # refused before its files are read.
        return render(
            request,
            "creations/creation_form.html",
            {"email_unverified": True},
            status=403 if request.method == "POST" else 200,
        )
    if request.method == "POST":
        # A second post of the same form is answered before its picture is processed again.
        earlier = creation_by_upload_key(
            owner=request.user, upload_key=_upload_key(request.POST.get("upload_key"))
        )
        if earlier is not None:
            return _already_published(request, earlier)
    form = CreationForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            creation, created = creation_create_once(owner=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if not created:
                return _already_published(request, creation)
            tags = ", ".join(form.cleaned_data["tags"]) or "none"
            if creation.status == Creation.Status.PENDING:
                messages.success(
                    request,
                    "Your creation is saved and waits for review: a moderator looks at a new "
                    f"member's first uploads before they are published. Tags: {tags}.",
                )
            else:
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


def _upload_key(value) -> str:
    if not value:
        return ""
    try:
        validate_upload_key(value)
    except ValidationError:
        return ""  # the form says what is wrong with it
    return value


def _already_published(request, creation):
    if creation.status == Creation.Status.PENDING:
        messages.info(request, "This upload was already sent and waits for review: here it is.")
    else:
        messages.info(request, "This upload was already published: here it is.")
    return redirect(creation)


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
        creation_delete(creation=creation, actor=request.user)
        messages.success(request, f"“{creation.title}” is deleted.")
        return redirect("creations:gallery")
    return render(request, "creations/creation_confirm_delete.html", {"creation": creation})
