"""Community pages: each area's module lists its own routes."""

from . import feeds
from .views import comments, favourites, follows, notifications

app_name = "community"

urlpatterns = [
    *comments.urlpatterns,
    *favourites.urlpatterns,
    *follows.urlpatterns,
    *notifications.urlpatterns,
    *feeds.urlpatterns,
]
