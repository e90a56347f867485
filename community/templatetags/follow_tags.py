"""What follows add to other apps' pages: the follow button on profiles and tag pages."""

from django import template
from django.contrib.auth import get_user_model
from django.urls import reverse
from taggit.models import Tag

from ..feed import is_following

register = template.Library()


@register.inclusion_tag("community/_follow_button.html", takes_context=True)
def follow_button(context, target):
    """A member's follow / unfollow form for a member or a tag (none on one's own profile);
    a log-in link for visitors."""
    request = context.get("request")
    if request is None:
        return {"shown": False}
    viewer = request.user
    if isinstance(target, Tag):
        action = reverse("community:follow_tag", kwargs={"slug": target.slug})
        name, following = f"the tag {target.name}", {"tag": target}
    elif isinstance(target, get_user_model()):
        if viewer.is_authenticated and viewer.pk == target.pk:
            return {"shown": False}
        action = reverse("community:follow_member", kwargs={"username": target.username})
        name, following = target.public_name, {"user": target}
    else:
        return {"shown": False}
    return {
        "shown": True,
        "action": action,
        "name": name,
        "is_member": viewer.is_authenticated,
        "is_following": viewer.is_authenticated and is_following(follower=viewer, **following),
        "next": request.get_full_path(),
        "csrf_token": context.get("csrf_token"),
    }
