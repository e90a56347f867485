from django.urls import path

from . import views

app_name = "moderation"

urlpatterns = [
    path("creations/<int:pk>/report/", views.report_new, name="report"),
    path("creations/<int:pk>/appeal/", views.appeal_new, name="appeal"),
    path("about/moderation/", views.about_moderation, name="about"),
]
