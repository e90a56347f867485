from rest_framework.routers import DefaultRouter


class AppRouter(DefaultRouter):
    """Each app's router: DefaultRouter's `.json` suffixes, no root (npu_site.urls has one)."""

    include_root_view = False
