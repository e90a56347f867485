from npu_site.routers import AppRouter

from .views import CreationViewSet, TagViewSet

router = AppRouter()
router.register("creations", CreationViewSet, basename="creation")
router.register("tags", TagViewSet, basename="tag")

urlpatterns = router.urls
