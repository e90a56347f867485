"""follows: API endpoints."""

urlpatterns = []
