"""favourites: API endpoints."""

urlpatterns = []
