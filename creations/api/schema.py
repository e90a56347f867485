"""OpenAPI adjustments drf-spectacular cannot infer from the serializers."""

from .serializers import OWNER_AND_MODERATOR_FIELDS


def owner_fields_are_optional(result, generator, request, public):
    """A creation's owner-and-moderator fields are left out for everyone else, so a response
    need not carry them (drf-spectacular marks read-only fields required)."""
    optional = set(OWNER_AND_MODERATOR_FIELDS)
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.startswith("Creation") and "required" in component:
            component["required"] = [
                field for field in component["required"] if field not in optional
            ]
    return result
