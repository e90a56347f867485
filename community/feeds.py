"""Atom feeds."""

urlpatterns = []
