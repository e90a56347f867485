from django.urls import path

from . import views

app_name = "scoring"

urlpatterns = [
    path("creations/<int:pk>/score/", views.score_submit, name="submit"),
    path("creations/<int:pk>/score/withdraw/", views.score_remove, name="withdraw"),
    path("creations/<int:pk>/reveal/", views.score_reveal, name="reveal"),
    path("about/ranking/", views.about_ranking, name="about-ranking"),
    path("u/<text:username>/scores/", views.member_scores_list, name="member-scores"),
]
