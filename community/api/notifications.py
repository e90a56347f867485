"""notifications: API endpoints."""

urlpatterns = []
