from django.urls import path

from . import views

app_name = "parts"

urlpatterns = [
    path("parts/", views.part_list, name="list"),
    path("parts/<text:part_num>/", views.part_detail, name="detail"),
]
