"""comments: pages."""

urlpatterns = []
