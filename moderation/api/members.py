"""The moderators' API: suspend, ban, lift and trust members, and read the moderation log.

The same services as the admin's member pages (moderation.members): the same permissions
(`moderation.restrict_member`, `moderation.trust_member`, `moderation.view_moderationaction`),
the same checks and the same log rows.
"""

import django_filters
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Restriction, User
from npu_site.api import errors

from ..members import REASON_MAX_LENGTH, member_ban, member_lift, member_suspend, member_trust
from ..models import ModerationAction

USERNAME = OpenApiParameter("username", OpenApiTypes.STR, OpenApiParameter.PATH)


def _member(username) -> User:
    return get_object_or_404(User, username=username, is_active=True)


class HasPermission(BasePermission):
    """Logged in with the view's `required_permission` (a moderator's); others get a 403."""

    def has_permission(self, request, view):
        if not request.user.has_perm(view.required_permission):
            raise PermissionDenied("Only moderators can do this.")
        return True


class RestrictionSerializer(serializers.Serializer):
    username = serializers.CharField(read_only=True)
    restriction = serializers.CharField(
        read_only=True, help_text='"suspended", "banned", or "" when the member is free.'
    )
    reason = serializers.CharField(source="restriction_reason", read_only=True)
    restricted_at = serializers.DateTimeField(read_only=True, allow_null=True)
    ends_at = serializers.DateTimeField(
        source="restriction_ends_at", read_only=True, allow_null=True
    )


class RestrictRequestSerializer(serializers.Serializer):
    restriction = serializers.ChoiceField(choices=Restriction.choices)
    reason = serializers.CharField(
        max_length=REASON_MAX_LENGTH,
        help_text="Told to the member when they try to log in; kept in the log.",
    )
    category = serializers.ChoiceField(
        choices=ModerationAction.Category.choices,
        help_text="What /about/moderation/ counts it under.",
    )
    ends_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="A suspension's end (it lifts itself then); none for a ban. Empty: until "
        "a moderator lifts it.",
    )


class LiftRequestSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=REASON_MAX_LENGTH, required=False, allow_blank=True, default=""
    )


class MemberRestrictionView(APIView):
    """A member's suspension or ban: read it, impose it (PUT) or lift it (DELETE)."""

    permission_classes = [IsAuthenticated, HasPermission]
    required_permission = "moderation.restrict_member"

    @extend_schema(
        summary="A member's suspension or ban (moderators)",
        parameters=[USERNAME],
        responses={200: RestrictionSerializer, **errors(401, 403, 404, 429)},
    )
    def get(self, request, username):
        return Response(RestrictionSerializer(_member(username)).data)

    @extend_schema(
        summary="Suspend or ban a member (moderators)",
        description=(
            "The member cannot log in (they are told the reason and until when), their token "
            "is refused, their creations are hidden and their scores stop counting, until it "
            "is lifted. A moderator or superuser can only be restricted by a superuser, and "
            "nobody restricts themselves (403). Logged with your name and the reason."
        ),
        parameters=[USERNAME],
        request=RestrictRequestSerializer,
        responses={200: RestrictionSerializer, **errors(400, 401, 403, 404, 429)},
    )
    def put(self, request, username):
        member = _member(username)
        serializer = RestrictRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data["restriction"] == Restriction.BANNED:
            if data.get("ends_at") is not None:
                raise serializers.ValidationError(
                    {"ends_at": ["A ban has no end: suspend the member to set one."]}
                )
            member = member_ban(
                member=member,
                moderator=request.user,
                reason=data["reason"],
                category=data["category"],
            )
        else:
            member = member_suspend(
                member=member,
                moderator=request.user,
                reason=data["reason"],
                ends_at=data.get("ends_at"),
                category=data["category"],
            )
        return Response(RestrictionSerializer(member).data)

    @extend_schema(
        summary="Lift a member's suspension or ban (moderators)",
        description="Their log-in, token, creations and scores come back at once. 200 "
        "whether or not they were restricted; logged only when they were.",
        parameters=[USERNAME],
        request=LiftRequestSerializer,
        responses={200: RestrictionSerializer, **errors(400, 401, 403, 404, 429)},
    )
    def delete(self, request, username):
        member = _member(username)
        serializer = LiftRequestSerializer(data=request.data or {})
        serializer.is_valid(raise_exception=True)
        member_lift(
            member=member, moderator=request.user, reason=serializer.validated_data["reason"]
        )
        member.refresh_from_db()
        return Response(RestrictionSerializer(member).data)


class TrustSerializer(serializers.Serializer):
    trusted = serializers.BooleanField(
        read_only=True, help_text="Whether the member's uploads skip the review of first uploads."
    )


class MemberTrustView(APIView):
    """Trust a member (PUT: their uploads skip the review of first uploads) or stop (DELETE)."""

    permission_classes = [IsAuthenticated, HasPermission]
    required_permission = "moderation.trust_member"

    def _set(self, request, username, trusted: bool):
        member = _member(username)
        member_trust(member=member, moderator=request.user, trusted=trusted)
        return Response(TrustSerializer({"trusted": trusted}).data)

    @extend_schema(
        summary="Trust a member (moderators)",
        parameters=[USERNAME],
        request=None,
        responses={200: TrustSerializer, **errors(401, 403, 404, 429)},
    )
    def put(self, request, username):
        return self._set(request, username, True)

    @extend_schema(
        summary="Stop trusting a member (moderators)",
        parameters=[USERNAME],
        request=None,
        responses={200: TrustSerializer, **errors(401, 403, 404, 429)},
    )
    def delete(self, request, username):
        return self._set(request, username, False)


class ModerationActionSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(
        source="actor_name", help_text="The moderator's username; empty for the site itself."
    )
    target = serializers.CharField(source="target_repr")

    class Meta:
        model = ModerationAction
        fields = [
            "id",
            "created_at",
            "actor",
            "action",
            "category",
            "target_type",
            "target_id",
            "target",
            "reason",
        ]


class ModerationActionFilter(django_filters.FilterSet):
    action = django_filters.ChoiceFilter(choices=ModerationAction.Action.choices)
    category = django_filters.ChoiceFilter(choices=ModerationAction.Category.choices)
    target_type = django_filters.CharFilter(max_length=40)

    class Meta:
        model = ModerationAction
        fields = ["action", "category", "target_type"]


class ModerationActionList(generics.ListAPIView):
    """The moderation log, newest first (moderators)."""

    serializer_class = ModerationActionSerializer
    permission_classes = [IsAuthenticated, HasPermission]
    required_permission = "moderation.view_moderationaction"
    filterset_class = ModerationActionFilter
    queryset = ModerationAction.objects.order_by("-created_at", "-id")

    @extend_schema(
        summary="The moderation log (moderators)",
        description="Every moderator action, one row per target, newest first; filter by "
        "`action`, `category` or `target_type` (e.g. `accounts.user`).",
        responses={200: ModerationActionSerializer(many=True), **errors(400, 401, 403, 429)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
