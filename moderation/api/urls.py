from django.urls import path

from . import members, views

urlpatterns = [
    path(
        "creations/<int:pk>/reports/", views.CreationReportView.as_view(), name="creation-reports"
    ),
    path("creations/<int:pk>/appeal/", views.CreationAppealView.as_view(), name="creation-appeal"),
    path(
        "users/<str:username>/restriction/",
        members.MemberRestrictionView.as_view(),
        name="member-restriction",
    ),
    path("users/<str:username>/trust/", members.MemberTrustView.as_view(), name="member-trust"),
    path("moderation/actions/", members.ModerationActionList.as_view(), name="moderation-actions"),
]
