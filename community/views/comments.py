"""Comment pages: posting, editing, deleting and reporting, all without JavaScript.

Each answers a form post by redirecting to the comment on its creation's page, with a
message; a form with errors comes back on a page of its own (400).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse

from creations.models import Creation
from creations.selectors import creation_for_detail
from npu_site.ratelimit import rate_limited

from ..forms import MAX_ID, CommentEditForm, CommentForm, CommentReportForm
from ..models import Comment
from ..selectors import comment_for_viewer, comment_thread_page_of
from ..services.comments import (
    CommentRefused,
    comment_can_delete,
    comment_create,
    comment_delete,
    comment_edit_deadline,
    comment_report_check,
    comment_report_create,
    comment_update,
    comment_update_check,
)


def _visible_creation(request, pk) -> Creation:
    try:
        return creation_for_detail(viewer=request.user, pk=pk)
    except Creation.DoesNotExist as error:
        raise Http404("No such creation.") from error


def _visible_comment(request, pk) -> Comment:
    try:
        return comment_for_viewer(viewer=request.user, pk=pk)
    except Comment.DoesNotExist as error:
        raise Http404("No such comment.") from error


def comment_location(comment) -> str:
    """The creation page's address showing `comment`: its page of the thread, its anchor."""
    url = reverse("creations:detail", kwargs={"pk": comment.creation_id})
    page = comment_thread_page_of(comment=comment)
    return f"{url}{f'?page={page}' if page > 1 else ''}#comment-{comment.pk}"


def _refused(request, refusal, location):
    messages.error(request, " ".join(getattr(refusal, "messages", [str(refusal)])))
    return redirect(location)


def _parent_for_form(creation, value) -> Comment | None:
    """The top-level comment a reply form answers (shown above it), if there is one."""
    try:
        pk = int(value)
    except (TypeError, ValueError):
        return None
    if not 0 < pk <= MAX_ID:
        return None
    return (
        Comment.objects.filter(
            pk=pk, creation=creation, parent__isnull=True, deleted_at__isnull=True
        )
        .select_related("user")
        .first()
    )


def _add_errors(form, error: ValidationError) -> None:
    """A service's refusal on the form: the hidden `parent` field's as the form's own."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, field_messages in error.message_dict.items():
        form.add_error(name if name in form.fields and name != "parent" else None, field_messages)


@login_required
@rate_limited(("comment", "user"))
def comment_new(request, pk):
    """Post a comment or a reply (GET: the form alone, e.g. a reply's `?parent=`)."""
    creation = _visible_creation(request, pk)
    if request.method == "POST":
        form = CommentForm(request.POST)
        if form.is_valid():
            try:
                comment = comment_create(
                    user=request.user,
                    creation=creation,
                    body=form.cleaned_data["body"],
                    parent=form.cleaned_data["parent"],
                )
            except CommentRefused as refusal:
                return _refused(request, refusal, creation)
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(
                    request,
                    "Your reply is posted." if comment.parent_id else "Your comment is posted.",
                )
                return redirect(comment_location(comment))
        status = 400
    else:
        form = CommentForm(initial={"parent": request.GET.get("parent")})
        status = 200
    parent = _parent_for_form(creation, form["parent"].value())
    return render(
        request,
        "community/comment_form.html",
        {
            "form": form,
            "creation": creation,
            "parent": parent,
            "editing": None,
            "location": (
                comment_location(parent) if parent else f"{creation.get_absolute_url()}#comments"
            ),
        },
        status=status,
    )


@login_required
@rate_limited(("comment", "user"))
def comment_edit(request, pk):
    comment = _visible_comment(request, pk)
    try:
        comment_update_check(comment=comment, actor=request.user)
    except CommentRefused as refusal:
        return _refused(request, refusal, comment_location(comment))
    form = CommentEditForm(request.POST or None, initial={"body": comment.body})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                comment_update(comment=comment, actor=request.user, **form.cleaned_data)
            except CommentRefused as refusal:
                return _refused(request, refusal, comment_location(comment))
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(request, "Your changes are saved.")
                return redirect(comment_location(comment))
        status = 400
    return render(
        request,
        "community/comment_form.html",
        {
            "form": form,
            "creation": comment.creation,
            "parent": None,
            "editing": comment,
            "location": comment_location(comment),
            "deadline": None if request.user.is_moderator else comment_edit_deadline(comment),
        },
        status=status,
    )


@login_required
def comment_remove(request, pk):
    comment = _visible_comment(request, pk)
    location = comment_location(comment)
    if not comment_can_delete(comment, request.user):
        message = (
            "This comment is deleted already."
            if comment.is_deleted
            else "Only the author or a moderator can delete a comment."
        )
        messages.error(request, message)
        return redirect(location)
    if request.method == "POST":
        try:
            placeholder = comment_delete(comment=comment, actor=request.user)
        except CommentRefused as refusal:
            return _refused(request, refusal, location)
        messages.success(request, "The comment is deleted.")
        if placeholder is not None:
            return redirect(location)
        # Gone: back to where it was, its thread's top-level comment if that is still there.
        anchor = (
            f"comment-{comment.parent_id}"
            if comment.parent_id and Comment.objects.filter(pk=comment.parent_id).exists()
            else "comments"
        )
        return redirect(location.split("#", 1)[0] + f"#{anchor}")
    return render(
        request,
        "community/comment_confirm_delete.html",
        {"comment": comment, "creation": comment.creation, "location": location},
    )


@login_required
def comment_report(request, pk):
    comment = _visible_comment(request, pk)
    location = comment_location(comment)
    try:
        comment_report_check(reporter=request.user, comment=comment)
    except (CommentRefused, ValidationError) as refusal:
        return _refused(request, refusal, location)
    form = CommentReportForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                comment_report_create(reporter=request.user, comment=comment, **form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, "Thank you. A moderator will look at it.")
                return redirect(location)
        status = 400
    return render(
        request,
        "community/comment_report_form.html",
        {"form": form, "comment": comment, "creation": comment.creation, "location": location},
        status=status,
    )


urlpatterns = [
    path("creations/<int:pk>/comments/", comment_new, name="comment_new"),
    path("comments/<int:pk>/edit/", comment_edit, name="comment_edit"),
    path("comments/<int:pk>/delete/", comment_remove, name="comment_delete"),
    path("comments/<int:pk>/report/", comment_report, name="comment_report"),
]
