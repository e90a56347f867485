from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path

from . import views

admin.site.site_header = "NPU moderation"
admin.site.site_title = "NPU admin"
admin.site.index_title = "Moderation"

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("", include("accounts.urls")),
    path("", include("creations.urls")),
    path("", include("scoring.urls")),
]

if not settings.AWS_STORAGE_BUCKET_NAME:
    # Media on the local disk is served by the site itself; with S3 the bucket serves it.
    media_prefix = settings.MEDIA_URL.strip("/")
    urlpatterns.append(re_path(rf"^{media_prefix}/(?P<path>.+)$", views.media, name="media"))
