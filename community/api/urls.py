"""Community endpoints, at the URLs a client expects (under creations, users and tags)."""

from . import comments, favourites, follows, notifications

urlpatterns = [
    *comments.urlpatterns,
    *favourites.urlpatterns,
    *follows.urlpatterns,
    *notifications.urlpatterns,
]
