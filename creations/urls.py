from django.urls import path

from . import views

app_name = "creations"

urlpatterns = [
    path("", views.gallery, name="gallery"),
    path("creations/new/", views.creation_new, name="new"),
    path("creations/<int:pk>/", views.creation_detail, name="detail"),
    path("creations/<int:pk>/edit/", views.creation_edit, name="edit"),
    path("creations/<int:pk>/delete/", views.creation_remove, name="delete"),
    path("tags/", views.tag_list, name="tags"),
    path("tags/<str:slug>/", views.tag_detail, name="tag"),
]
