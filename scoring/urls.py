from django.urls import path

from . import views

app_name = "scoring"

urlpatterns = [
    path("creations/<int:pk>/score/", views.score_submit, name="submit"),
    path("creations/<int:pk>/score/withdraw/", views.score_remove, name="withdraw"),
]
