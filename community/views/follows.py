"""Follows: the following feed, and the follow buttons' forms (no JavaScript)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST
from taggit.models import Tag

from accounts.models import User
from creations.selectors import tag_is_public
from creations.visibility import mark_scores_visible
from npu_site.paginator import CountingPaginator

from ..feed import feed_creations, following_of, is_following
from ..services.follows import follow_add, follow_remove
from .favourites import back_url


@login_required
def following(request):
    """The newest published creations of the members and tags the member follows."""
    follows = following_of(member=request.user, with_names=True)
    page = CountingPaginator(
        feed_creations(following=follows), settings.NPU_GALLERY_PAGE_SIZE
    ).get_page(request.GET.get("page"))
    mark_scores_visible(request.user, page.object_list)
    return render(request, "community/following.html", {"page": page, "following": follows})


def _toggle(request, back: str, *, name: str, user=None, tag=None):
    action = request.POST.get("action")
    try:
        if action == "follow":
            follow_add(follower=request.user, user=user, tag=tag)
            messages.success(request, f"You follow {name}: new creations show under Following.")
        elif action == "unfollow":
            follow_remove(follower=request.user, user=user, tag=tag)
            messages.success(request, f"You no longer follow {name}.")
        else:
            messages.error(request, "Choose to follow or to unfollow.")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect(back)


@require_POST
def follow_member(request, username):
    """Follow (`action=follow`) or unfollow (`action=unfollow`) a member, then go back."""
    back = back_url(request, reverse("accounts:profile", kwargs={"username": username}))
    if not request.user.is_authenticated:
        return redirect_to_login(back)
    member = get_object_or_404(User, username=username, is_active=True)
    return _toggle(request, back, name=member.public_name, user=member)


@require_POST
def follow_tag(request, slug):
    """Follow or unfollow a tag, then go back. A tag only hidden creations carry does not
    exist for the public, so it cannot be followed (but can be unfollowed)."""
    back = back_url(request, reverse("creations:tag", kwargs={"slug": slug}))
    if not request.user.is_authenticated:
        return redirect_to_login(back)
    tag = get_object_or_404(Tag, slug=slug)
    if not is_following(follower=request.user, tag=tag) and not tag_is_public(tag=tag):
        raise Http404("No such tag.")
    return _toggle(request, back, name=f"the tag {tag.name}", tag=tag)


urlpatterns = [
    path("following/", following, name="following"),
    path("u/<text:username>/follow/", follow_member, name="follow_member"),
    path("tags/<text:slug>/follow/", follow_tag, name="follow_tag"),
]
