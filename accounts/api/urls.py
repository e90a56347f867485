from django.urls import path

from npu_site.routers import AppRouter

from .views import TokenView, UserViewSet

router = AppRouter()
router.register("users", UserViewSet, basename="user")

urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="token"),
    *router.urls,
]
