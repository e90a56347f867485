"""What comments add to other apps' pages: the creation page's thread."""

from django import template
from django.urls import reverse

from ..forms import CommentForm
from ..selectors import comment_thread as thread_page
from ..services.comments import comment_can_delete, comment_can_edit, comment_can_report
from ..text import comment_html

register = template.Library()

# Deeper than any thread goes; past it (or for anything but a number) the first page.
MAX_THREAD_PAGE = 100_000


def _page_number(value) -> int:
    try:
        number = int(str(value)[:7])
    except (TypeError, ValueError):
        return 1
    return number if 1 <= number <= MAX_THREAD_PAGE else 1


@register.inclusion_tag("community/_comment_thread.html", takes_context=True)
def comment_thread(context, creation):
    """A page of the creation's comments, oldest first, replies beneath their comment, with
    what the viewer may do to each; a fixed number of queries however long the thread."""
    request = context["request"]
    viewer = request.user
    thread = thread_page(creation=creation, page=_page_number(request.GET.get("page")))
    for top in thread.comments:
        for comment in (top, *top.thread_replies):
            comment.body_html = comment_html(comment.body, members=thread.members)
            comment.viewer_can_edit = comment_can_edit(comment, viewer)
            comment.viewer_can_delete = comment_can_delete(comment, viewer)
            comment.viewer_can_report = comment_can_report(comment, viewer)
    creation_url = creation.get_absolute_url()
    return {
        "creation": creation,
        "thread": thread,
        "can_comment": viewer.is_authenticated,
        "form": CommentForm(auto_id="id_comment_%s") if viewer.is_authenticated else None,
        "comment_url": reverse("community:comment_new", kwargs={"pk": creation.pk}),
        "login_url": f"{reverse('accounts:login')}?next={creation_url}%23comments",
        "creation_url": creation_url,
    }
