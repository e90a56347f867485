from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response

from accounts.models import User
from accounts.services import api_token_get_or_create, user_update_profile
from creations.selectors import users_with_creation_count
from npu_site.api import TokenLoginThrottle, errors

from .serializers import (
    OwnUserSerializer,
    PublicUserSerializer,
    TokenRequestSerializer,
    TokenSerializer,
)


class TokenView(ObtainAuthToken):
    """Trade a username (or e-mail) and password for the member's API token."""

    throttle_classes = [TokenLoginThrottle]
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Get your API token",
        request=TokenRequestSerializer,
        responses={200: TokenSerializer, **errors(400, 429)},
        auth=[],
    )
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token = api_token_get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key})


@extend_schema_view(
    retrieve=extend_schema(
        summary="Get a member's public profile",
        parameters=[OpenApiParameter("username", str, OpenApiParameter.PATH)],
        responses={200: PublicUserSerializer, **errors(404, 429)},
    )
)
class UserViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Public profiles, and the caller's own profile at `me`."""

    serializer_class = PublicUserSerializer
    lookup_field = "username"
    lookup_value_regex = r"[\w.@+-]+"
    filter_backends = []

    def get_queryset(self):
        return users_with_creation_count(User.objects.filter(is_active=True))

    @extend_schema(
        methods=["GET"],
        summary="Get your own profile",
        responses={200: OwnUserSerializer, **errors(401, 429)},
    )
    @extend_schema(
        methods=["PATCH"],
        summary="Change your display name, bio or e-mail",
        request=OwnUserSerializer,
        responses={200: OwnUserSerializer, **errors(400, 401, 429)},
    )
    @action(detail=False, methods=["get", "patch"], permission_classes=[IsAuthenticated])
    def me(self, request):
        if request.method == "PATCH":
            serializer = OwnUserSerializer(request.user, data=request.data, partial=True)
            serializer.is_valid(raise_exception=True)
            user = request.user
            user_update_profile(
                user=user,
                display_name=serializer.validated_data.get("display_name", user.display_name),
                bio=serializer.validated_data.get("bio", user.bio),
                email=serializer.validated_data.get("email", user.email),
            )
        user = users_with_creation_count(User.objects.filter(pk=request.user.pk)).get()
        return Response(OwnUserSerializer(user).data)
