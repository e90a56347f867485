from rest_framework.permissions import SAFE_METHODS, BasePermission


class IsOwnerOrModerator(BasePermission):
    """Only the owner or a moderator may change a creation."""

    message = "Only the owner or a moderator may change this creation."

    def has_object_permission(self, request, view, obj):
        return request.method in SAFE_METHODS or obj.can_edit(request.user)
