from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from accounts.api.views import TokenView, UserViewSet
from creations.api.views import CreationViewSet, PartViewSet, TagViewSet

from . import views

admin.site.site_header = "NPU moderation"
admin.site.site_title = "NPU admin"
admin.site.index_title = "Moderation"

router = DefaultRouter()
router.register("creations", CreationViewSet, basename="creation")
router.register("tags", TagViewSet, basename="tag")
router.register("parts", PartViewSet, basename="part")
router.register("users", UserViewSet, basename="user")

api_patterns = [
    path("auth/token/", TokenView.as_view(), name="token"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    *router.urls,
    # Anything else under the API is a JSON 404, not the site's HTML page.
    re_path(r"^[\s\S]*$", views.api_not_found),
]

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_patterns, "api"))),
    path("", include("accounts.urls")),
    path("", include("creations.urls")),
    path("", include("scoring.urls")),
]

if not settings.AWS_STORAGE_BUCKET_NAME:
    # Media on the local disk is served by the site itself; with S3 the bucket serves it.
    media_prefix = settings.MEDIA_URL.strip("/")
    urlpatterns.append(re_path(rf"^{media_prefix}/(?P<path>.+)$", views.media, name="media"))
