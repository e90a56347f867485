"""comments: API endpoints."""

urlpatterns = []
