"""What favourites add to other apps' pages: the save button on creation cards and pages."""

from django import template
from django.db.models import QuerySet

from creations.models import Creation

from ..saved import saved_lookup

register = template.Library()


def _page_creation_ids(context) -> list[int]:
    """The ids of the creations on the page being drawn (a gallery's `page`), so the first
    button looks them all up in one query. Only a page already read is used: the button never
    starts the page's query itself."""
    object_list = getattr(context.get("page"), "object_list", None)
    if object_list is None:
        return []
    if isinstance(object_list, QuerySet) and object_list._result_cache is None:
        return []
    return [item.pk for item in object_list if isinstance(item, Creation)]


@register.inclusion_tag("community/_favourite_button.html", takes_context=True)
def favourite_button(context, creation):
    """A member's save / unsave form for `creation`; a log-in link for visitors."""
    request = context.get("request")
    if request is None or creation is None:
        return {"shown": False}
    viewer = request.user
    is_saved = viewer.is_authenticated and saved_lookup(request).is_saved(
        creation, alongside=_page_creation_ids(context)
    )
    return {
        "shown": True,
        "creation": creation,
        "is_member": viewer.is_authenticated,
        "is_saved": is_saved,
        "next": request.get_full_path(),
        "csrf_token": context.get("csrf_token"),
    }
