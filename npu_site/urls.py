"""The site's URLs: each app's pages and API routes, included by name.

This module wires; it imports no app. Every app owns its `urls.py` (pages) and `api/urls.py`
(routes under /api/v1/, all in the `api` namespace).
"""

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import APIRootView

from . import (
    converters,  # noqa: F401  registers <text:…> before the apps' URLs load
    views,
)

# A database that is down is a 503 with Retry-After, wherever the error was raised.
handler500 = "npu_site.unavailable.server_error"

admin.site.site_header = "NPU moderation"
admin.site.site_title = "NPU admin"
admin.site.index_title = "Moderation"

API_APPS = ("accounts", "parts", "creations", "scoring", "moderation", "community")

api_patterns = [
    path(
        "",
        APIRootView.as_view(
            api_root_dict={"creations": "creation-list", "tags": "tag-list", "parts": "part-list"}
        ),
        name="api-root",
    ),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file of its own, so the page
    # runs under the site's Content-Security-Policy (script-src 'self', no inline scripts).
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    *(path("", include(f"{app}.api.urls")) for app in API_APPS),
    # Anything else under the API is a JSON 404, not the site's HTML page.
    re_path(r"^[\s\S]*$", views.api_not_found, name="not-found"),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_patterns, "api"))),
    path("", include("accounts.urls")),
    path("", include("parts.urls")),
    path("", include("creations.urls")),
    path("", include("scoring.urls")),
    path("", include("moderation.urls")),
    path("", include("community.urls")),
]
