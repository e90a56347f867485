from django.urls import path

from . import views

# Under each creation's URL, and named as they were when they were actions of its viewset.
urlpatterns = [
    path("creations/<int:pk>/scores/", views.CreationScoreList.as_view(), name="creation-scores"),
    path("creations/<int:pk>/my-score/", views.MyScoreView.as_view(), name="creation-my-score"),
    path("creations/<int:pk>/reveal/", views.RevealView.as_view(), name="creation-reveal"),
    path("users/me/scores/", views.MyScoreList.as_view(), name="my-scores"),
    path(
        "users/me/score-distribution/",
        views.MyScoreDistributionView.as_view(),
        name="my-score-distribution",
    ),
]
