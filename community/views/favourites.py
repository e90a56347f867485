"""Favourites: the member's saved creations, and the save button's form (no JavaScript)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from creations.models import Creation
from creations.visibility import mark_scores_visible
from npu_site.paginator import CountingPaginator

from ..saved import saved_creations, saved_lookup
from ..services.favourites import HiddenCreationError, favourite_add, favourite_remove

NEXT_MAX_LENGTH = 2000


def back_url(request, fallback: str) -> str:
    """Where a button's form sends the member back to: its `next` when it is a path on this
    site (starting with one slash, plain text, of a sane length), else `fallback`. Anything
    else, a bare word included (which `redirect()` would take for a view name), is ignored."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if (
        target.startswith("/")
        and len(target) <= NEXT_MAX_LENGTH
        and target.isprintable()
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return target
    return fallback


@login_required
def saved(request):
    """The member's saved creations, newest saved first. Nobody else can see this list."""
    page = CountingPaginator(
        saved_creations(member=request.user), settings.NPU_GALLERY_PAGE_SIZE
    ).get_page(request.GET.get("page"))
    mark_scores_visible(request.user, page.object_list)
    # Every card here is saved: its button needs no lookup.
    saved_lookup(request).know([creation.pk for creation in page.object_list], saved=True)
    return render(request, "community/saved.html", {"page": page})


@require_POST
def favourite_toggle(request, pk):
    """Save (`action=save`) or unsave (`action=unsave`) a creation, then go back."""
    back = back_url(request, reverse("creations:detail", kwargs={"pk": pk}))
    if not request.user.is_authenticated:
        return redirect_to_login(back)
    creation = get_object_or_404(Creation.objects.visible_to(request.user), pk=pk)
    action = request.POST.get("action")
    if action == "save":
        try:
            favourite_add(user=request.user, creation=creation)
        except HiddenCreationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"Saved “{creation.title}”. Find it under Saved.")
    elif action == "unsave":
        favourite_remove(user=request.user, creation=creation)
        messages.success(request, f"Removed “{creation.title}” from your saved creations.")
    else:
        messages.error(request, "Choose to save or to unsave the creation.")
    return redirect(back)


urlpatterns = [
    path("saved/", saved, name="saved"),
    path("creations/<int:pk>/favourite/", favourite_toggle, name="favourite"),
]
