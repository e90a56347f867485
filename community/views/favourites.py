"""favourites: pages (placeholder)."""

from django.http import Http404
from django.urls import path


def saved(request):
    raise Http404


urlpatterns = [path("saved/", saved, name="saved")]
