from django.urls import path

from . import views

app_name = "creations"

urlpatterns = [
    path("", views.gallery, name="gallery"),
    path("creations/<int:pk>/", views.creation_detail, name="detail"),
]
