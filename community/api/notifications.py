"""Notification endpoints: mine (with the unread count), marking them read, and what comes by
e-mail."""

from django.urls import path
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field
from rest_framework import generics, serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from npu_site.api import Pagination, errors

from ..models import Notification
from ..notifications import (
    EMAIL_BY_DEFAULT,
    absolute_url,
    notification_target,
    notification_text,
    notifications_for,
    notifications_mark_read,
    preferences_for,
    preferences_update,
    unread_count,
)

# At most this many ids in one request to mark read.
MAX_IDS = 100
MAX_ID = 2**63 - 1


class ActorSerializer(serializers.Serializer):
    username = serializers.CharField(read_only=True)
    display_name = serializers.CharField(read_only=True)


class NotificationSerializer(serializers.ModelSerializer):
    text = serializers.SerializerMethodField(help_text="The sentence, as the page shows it.")
    actor = ActorSerializer(
        read_only=True, allow_null=True, help_text="Who did it (the latest, for grouped scores)."
    )
    creation = serializers.IntegerField(source="creation_id", read_only=True, allow_null=True)
    comment = serializers.IntegerField(source="comment_id", read_only=True, allow_null=True)
    count = serializers.IntegerField(read_only=True, help_text="How many events it groups.")
    url = serializers.SerializerMethodField(help_text="The page it is about.")
    read = serializers.BooleanField(source="is_read", read_only=True)

    class Meta:
        model = Notification
        fields = [
            "id",
            "kind",
            "text",
            "count",
            "actor",
            "creation",
            "comment",
            "reason",
            "url",
            "created_at",
            "updated_at",
            "read",
            "read_at",
        ]
        read_only_fields = fields

    def _viewer(self):
        return self.context["request"].user

    def get_text(self, notification) -> str:
        return notification_text(notification, viewer=self._viewer())

    def get_url(self, notification) -> str:
        return absolute_url(notification_target(notification, viewer=self._viewer()))


class NotificationPagination(Pagination):
    """The usual page, with the member's unread count beside it."""

    unread_count = 0

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        body = response.data
        response.data = {
            "count": body["count"],
            "next": body["next"],
            "previous": body["previous"],
            "unread_count": self.unread_count,
            "results": body["results"],
        }
        return response

    def get_paginated_response_schema(self, schema):
        response_schema = super().get_paginated_response_schema(schema)
        response_schema["properties"]["unread_count"] = {"type": "integer", "example": 3}
        response_schema["required"] = [*response_schema.get("required", []), "unread_count"]
        return response_schema


class NotificationList(generics.ListAPIView):
    """The caller's notifications, newest (or newest grouped) first."""

    serializer_class = NotificationSerializer
    permission_classes = [IsAuthenticated]
    pagination_class = NotificationPagination
    filter_backends = []

    def get_queryset(self):
        return notifications_for(self.request.user)

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        self.paginator.unread_count = unread_count(self.request.user)
        return page

    @extend_schema(
        summary="List your notifications",
        description="Newest first, with `unread_count`: how many of all of them are unread.",
        responses={200: NotificationSerializer(many=True), **errors(401, 404, 429)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class StrictIdField(serializers.IntegerField):
    """A JSON integer: not a string, a float or a boolean."""

    default_error_messages = {"invalid": "An id is a whole number."}

    def to_internal_value(self, data):
        if type(data) is not int:
            self.fail("invalid")
        return super().to_internal_value(data)


class NoUnknownFieldsSerializer(serializers.Serializer):
    """Refuses fields it does not know, rather than ignoring them (a misspelt `ids` must not
    mean "all")."""

    def validate(self, attrs):
        if hasattr(self.initial_data, "keys"):
            unknown = set(self.initial_data.keys()) - set(self.fields)
            if unknown:
                raise serializers.ValidationError(
                    {name: ["Unknown field."] for name in sorted(unknown)[:10]}
                )
        return attrs


class MarkReadSerializer(NoUnknownFieldsSerializer):
    ids = serializers.ListField(
        child=StrictIdField(min_value=1, max_value=MAX_ID),
        max_length=MAX_IDS,
        required=False,
        help_text=f"Only these notifications (at most {MAX_IDS}); leave out for all of them.",
    )


class MarkReadResultSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many were unread and are read now.")
    unread_count = serializers.IntegerField()


class MarkReadView(APIView):
    """Mark the caller's notifications read: all of them, or those in `ids`."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Mark your notifications read",
        request=MarkReadSerializer,
        responses={200: MarkReadResultSerializer, **errors(400, 401, 429)},
        examples=[
            OpenApiExample("All of them", value={}, request_only=True),
            OpenApiExample("Some", value={"ids": [12, 15]}, request_only=True),
        ],
    )
    def post(self, request):
        serializer = MarkReadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        marked = notifications_mark_read(
            user=request.user, ids=serializer.validated_data.get("ids")
        )
        return Response({"marked": marked, "unread_count": unread_count(request.user)})


@extend_schema_field(
    {
        "type": "object",
        "properties": {kind: {"type": "boolean"} for kind in EMAIL_BY_DEFAULT},
        "additionalProperties": False,
    }
)
class EmailChoicesField(serializers.Field):
    """Per kind, whether it also comes by e-mail: `{"comment": true, "score": false, …}`."""

    default_error_messages = {
        "not_a_dict": "Expected an object of kinds and true or false.",
        "unknown": "Unknown kinds: {kinds}.",
        "not_a_bool": "Each kind takes true or false.",
    }

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            self.fail("not_a_dict")
        unknown = set(data) - set(EMAIL_BY_DEFAULT)
        if unknown:
            self.fail("unknown", kinds=", ".join(sorted(str(kind) for kind in unknown)[:10]))
        if any(type(value) is not bool for value in data.values()):
            self.fail("not_a_bool")
        return data

    def to_representation(self, value):
        return value


class PreferencesSerializer(NoUnknownFieldsSerializer):
    email = EmailChoicesField(
        help_text="Per kind, true: also by e-mail (in a digest); false: in the app only. "
        "Kinds left out keep their setting."
    )


class PreferencesView(APIView):
    """Which kinds of notification also come by e-mail."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Get your notification settings",
        responses={200: PreferencesSerializer, **errors(401, 429)},
    )
    def get(self, request):
        return Response({"email": preferences_for(request.user)})

    @extend_schema(
        summary="Choose which notifications also come by e-mail",
        request=PreferencesSerializer,
        responses={200: PreferencesSerializer, **errors(400, 401, 429)},
        examples=[
            OpenApiExample("Scores by e-mail too", value={"email": {"score": True}}),
        ],
    )
    def put(self, request):
        serializer = PreferencesSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        chosen = {**preferences_for(request.user), **serializer.validated_data["email"]}
        email = preferences_update(
            user=request.user, email_kinds={kind for kind, wanted in chosen.items() if wanted}
        )
        return Response({"email": email})


urlpatterns = [
    path("notifications/", NotificationList.as_view(), name="notification-list"),
    path("notifications/read/", MarkReadView.as_view(), name="notification-read"),
    path(
        "notifications/preferences/",
        PreferencesView.as_view(),
        name="notification-preferences",
    ),
]
