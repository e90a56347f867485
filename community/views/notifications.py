"""notifications: pages (placeholder)."""

from django.http import Http404
from django.urls import path


def notifications(request):
    raise Http404


urlpatterns = [path("notifications/", notifications, name="notifications")]
