from django.contrib.auth.signals import user_logged_in
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import action
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.settings import api_settings

from accounts.backends import login_key
from accounts.exports import data_export_request
from accounts.models import User
from accounts.services import (
    ALREADY_VERIFIED,
    api_token_get_or_create,
    email_change_request,
    email_verification_send,
    user_delete,
    user_update_profile,
)
from creations.selectors import with_creation_count
from npu_site.api import DETAIL, LimitThrottle, errors
from npu_site.ratelimit import (
    OWN_ADDRESS_MAIL_LIMITS,
    VERIFICATION_MAIL_LIMITS,
    body_field,
    identifier_normalised,
    limits_exceeded,
)

from .serializers import (
    AccountDeleteSerializer,
    DataExportSerializer,
    OwnUserSerializer,
    PublicUserSerializer,
    TokenRequestSerializer,
    TokenSerializer,
)


class AccountLoginThrottle(LimitThrottle):
    """Token log-in: 10 a minute per IP and per account however it is named (login_key),
    shared with the log-in page."""

    limits = (("login_ip", "ip"), ("login_username", login_key))
    methods = frozenset({"POST"})


class TokenView(ObtainAuthToken):
    """Trade a username (or e-mail) and password for the member's API token."""

    throttle_classes = [AccountLoginThrottle]
    permission_classes = [AllowAny]
    # ObtainAuthToken names DRF's plain JSON parser, which lets a lone surrogate through to
    # the throttle's key (a 500); the site's parsers refuse it with a 400.
    parser_classes = api_settings.DEFAULT_PARSER_CLASSES

    @extend_schema(
        summary="Get your API token",
        request=TokenRequestSerializer,
        responses={200: TokenSerializer, **errors(400, 429)},
        auth=[],
    )
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        # A log-in as much as the page's: last_login is kept, and a suspension that has
        # ended is lifted at once (moderation's receiver).
        user_logged_in.send(sender=user.__class__, request=request, user=user)
        token = api_token_get_or_create(user=user)
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
        return User.objects.filter(is_active=True)

    def get_object(self):
        return with_creation_count(super().get_object())

    @extend_schema(
        methods=["GET"],
        summary="Get your own profile",
        responses={200: OwnUserSerializer, **errors(401, 429)},
    )
    @extend_schema(
        methods=["DELETE"],
        summary="Delete your account",
        description=(
            "Deletes the account with your creations and their pictures, your scores (every "
            "creation you scored is recomputed), saved creations, follows and notifications; "
            "your comments stay, shown as by a deleted member. Needs `password`. Password "
            "tries count against the log-in limits (10 a minute per IP and per account)."
        ),
        request=AccountDeleteSerializer,
        responses={204: None, **errors(400, 401, 429)},
    )
    @extend_schema(
        methods=["PATCH"],
        summary="Change your display name, bio or e-mail",
        description=(
            "A new `email` needs `current_password`. It takes effect when you open the link "
            "mailed to it; until then the answer shows your old address. The answer is the "
            "same whether or not another account has the new address."
        ),
        request=OwnUserSerializer,
        responses={200: OwnUserSerializer, **errors(400, 401, 429)},
    )
    @action(detail=False, methods=["get", "patch", "delete"], permission_classes=[IsAuthenticated])
    def me(self, request):
        """The caller's profile; PATCH changes it.

        An e-mail change never answers "already exists": with the right password the answer is
        200 with the address unchanged, whether the new address is free (a confirmation link
        goes to it) or another account's (its owner gets a note instead), so the endpoint
        cannot be used to find out who is registered. Tries are limited like all mail to a
        typed-in address (5 an hour per IP and per address).
        """
        if request.method == "DELETE":
            return self._delete_account(request)
        if request.method == "PATCH":
            user = request.user
            typed_email = body_field(request, "email")
            if typed_email and user.is_new_email(typed_email):
                wait = limits_exceeded(request, *VERIFICATION_MAIL_LIMITS)
                if wait is not None:
                    raise Throttled(wait=wait)
            serializer = OwnUserSerializer(user, data=request.data, partial=True)
            serializer.is_valid(raise_exception=True)
            user_update_profile(
                user=user,
                display_name=serializer.validated_data.get("display_name", user.display_name),
                bio=serializer.validated_data.get("bio", user.bio),
            )
            email = serializer.validated_data.get("email")
            if email is not None and user.is_new_email(email):
                email_change_request(
                    user=user, email=email, base_url=request.build_absolute_uri("/").rstrip("/")
                )
        user = with_creation_count(User.objects.get(pk=request.user.pk))
        return Response(OwnUserSerializer(user).data)

    @extend_schema(
        summary="Mail the link that confirms your e-mail address again",
        description=(
            "Uploads need a confirmed address. The link works once, for one day; opening it "
            "confirms the address. 400 if it is confirmed already. Limited like all mail to an "
            "address (5 an hour per IP and per address)."
        ),
        request=None,
        responses={202: DETAIL, **errors(400, 401, 429)},
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="me/verify-email",
        url_name="me-verify-email",
        permission_classes=[IsAuthenticated],
    )
    def verify_email(self, request):
        """Mail the caller a new link that verifies their address."""
        if request.user.email_verified:
            raise ValidationError({"detail": ALREADY_VERIFIED})
        wait = limits_exceeded(request, *OWN_ADDRESS_MAIL_LIMITS)
        if wait is not None:
            raise Throttled(wait=wait)
        email_verification_send(
            user=request.user, base_url=request.build_absolute_uri("/").rstrip("/")
        )
        return Response(
            {"detail": f"A new link is on its way to {request.user.email}."}, status=202
        )

    def _delete_account(self, request):
        # Password tries count against the log-in limits, so this cannot guess faster.
        wait = limits_exceeded(
            request,
            ("login_ip", "ip"),
            ("login_username", lambda group, req: identifier_normalised(req.user.username)),
        )
        if wait is not None:
            raise Throttled(wait=wait)
        serializer = AccountDeleteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user_delete(user=request.user, password=serializer.validated_data["password"])
        return Response(status=204)

    @extend_schema(
        summary="Export your data",
        description=(
            "Starts building a zip of your profile, creations with their original pictures, "
            "scores, comments, saved creations and follows. A notification of kind "
            "`export_ready` links to it when it is ready; the link works for 7 days, for you "
            "only. While one is being prepared the answer is that one. At most 3 a day."
        ),
        request=None,
        responses={202: DataExportSerializer, **errors(400, 401, 429)},
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="me/export",
        url_name="me-export",
        permission_classes=[IsAuthenticated],
    )
    def export(self, request):
        """Start a data export of the caller's account."""
        export, _ = data_export_request(user=request.user)
        export.refresh_from_db()
        return Response({"id": export.pk, "status": export.status}, status=202)
