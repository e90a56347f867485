"""Notification pages: my notifications, opening one, marking them read, what comes by e-mail,
and the digest's unsubscribe link."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from npu_site.paginator import CountingPaginator

from ..models import Notification
from ..notifications import (
    notification_html,
    notification_target,
    notifications_for,
    notifications_mark_read,
    preferences_for,
    preferences_update,
    unread_count,
    unsubscribe,
    unsubscribe_token_user,
)

PAGE_SIZE = 24
# Above any id the database holds: a bigger number in a URL is no notification (a 404).
MAX_ID = 2**63 - 1


@login_required
def notification_list(request):
    paginator = CountingPaginator(notifications_for(request.user), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    for notification in page.object_list:
        notification.sentence = notification_html(notification, viewer=request.user)
    return render(
        request,
        "community/notifications.html",
        {"page": page, "unread_count": unread_count(request.user)},
    )


@login_required
@require_POST
def notification_open(request, pk):
    """Mark one notification read and go to what it is about."""
    notification = notifications_for(request.user).filter(pk=pk).first() if pk <= MAX_ID else None
    if notification is None:
        raise Http404("No such notification.")
    notifications_mark_read(user=request.user, ids=[notification.pk])
    return redirect(notification_target(notification, viewer=request.user))


@login_required
@require_POST
def notifications_read(request):
    marked = notifications_mark_read(user=request.user)
    if marked:
        messages.success(request, "All your notifications are marked read.")
    return redirect("community:notifications")


class PreferencesForm(forms.Form):
    """One checkbox per kind: also by e-mail, in a digest."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for kind, label in Notification.Kind.choices:
            self.fields[kind] = forms.BooleanField(label=label, required=False)

    def email_kinds(self) -> set[str]:
        return {kind for kind, email in self.cleaned_data.items() if email}


@login_required
def notification_settings(request):
    form = PreferencesForm(request.POST or None, initial=preferences_for(request.user))
    if request.method == "POST" and form.is_valid():
        preferences_update(user=request.user, email_kinds=form.email_kinds())
        messages.success(request, "Your notification settings are saved.")
        return redirect("community:notification_settings")
    return render(request, "community/notifications_settings.html", {"form": form})


@csrf_exempt  # the signed token authenticates; mail clients POST it with no session (RFC 8058)
@require_http_methods(["GET", "POST"])
def notifications_unsubscribe(request, token):
    """The digest's one-click link: every kind in the app only, no more mail."""
    user = unsubscribe_token_user(token)
    if user is None:
        return render(request, "community/unsubscribe_invalid.html", status=400)
    unsubscribe(user=user)
    return render(request, "community/unsubscribe.html", {"member": user})


urlpatterns = [
    path("notifications/", notification_list, name="notifications"),
    path("notifications/read/", notifications_read, name="notifications_read"),
    path("notifications/<int:pk>/open/", notification_open, name="notification_open"),
    path("notifications/settings/", notification_settings, name="notification_settings"),
    path(
        "notifications/unsubscribe/<text:token>/",
        notifications_unsubscribe,
        name="unsubscribe",
    ),
]
