"""follows: pages (placeholder)."""

from django.http import Http404
from django.urls import path


def following(request):
    raise Http404


urlpatterns = [path("following/", following, name="following")]
