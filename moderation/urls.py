from django.urls import path

from . import views

app_name = "moderation"

urlpatterns = [
    path("creations/<int:pk>/report/", views.report_new, name="report"),
]
