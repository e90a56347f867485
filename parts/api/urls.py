from npu_site.routers import AppRouter

from .views import PartViewSet

router = AppRouter()
router.register("parts", PartViewSet, basename="part")

urlpatterns = router.urls
