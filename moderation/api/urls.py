from django.urls import path

from . import views

urlpatterns = [
    path(
        "creations/<int:pk>/reports/", views.CreationReportView.as_view(), name="creation-reports"
    ),
    path("creations/<int:pk>/appeal/", views.CreationAppealView.as_view(), name="creation-appeal"),
]
