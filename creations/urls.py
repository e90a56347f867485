from django.conf import settings
from django.urls import path, re_path

from . import views

app_name = "creations"

urlpatterns = [
    path("", views.gallery, name="gallery"),
    path("creations/new/", views.creation_new, name="new"),
    path("creations/<int:pk>/", views.creation_detail, name="detail"),
    path("creations/<int:pk>/edit/", views.creation_edit, name="edit"),
    path("creations/<int:pk>/delete/", views.creation_remove, name="delete"),
    path("tags/", views.tag_list, name="tags"),
    path("tags/<text:slug>/", views.tag_detail, name="tag"),
]

if not settings.AWS_STORAGE_BUCKET_NAME:
    # Pictures on the local disk are served by the site, to who may see their creation; with
    # S3 the bucket serves them through signed, expiring URLs (docs/security.md).
    media_prefix = settings.MEDIA_URL.strip("/")
    urlpatterns.append(
        re_path(rf"^{media_prefix}/(?P<path>.+)$", views.creation_media, name="media")
    )
