from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticatedOrReadOnly
from rest_framework.response import Response

from creations.filters import CreationFilter
from creations.models import Creation, validate_upload_key
from creations.selectors import creation_by_upload_key, tag_cloud
from creations.services import (
    EmailNotVerifiedError,
    creation_create_once,
    creation_delete,
    creation_update,
    creation_upload_check,
)
from npu_site.api import UploadThrottle, errors
from npu_site.parsers import StrictJSONParser
from npu_site.text import search_text

from .permissions import IsOwnerOrModerator
from .serializers import CreationSerializer, TagSerializer

CREATION_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)


@extend_schema_view(
    list=extend_schema(
        summary="List creations",
        description="Published creations (and, for their owner and moderators, hidden ones), "
        "newest first unless `ordering` says otherwise.",
        responses={200: CreationSerializer(many=True), **errors(400, 404, 429)},
    ),
    retrieve=extend_schema(
        summary="Get one creation",
        parameters=[CREATION_ID],
        responses={200: CreationSerializer, **errors(404, 429)},
    ),
    create=extend_schema(
        summary="Upload a creation",
        description="Multipart upload. `tags` may be repeated or one comma-separated value. "
        "Send an `Idempotency-Key` header (e.g. a new UUID per upload) to make a retry safe: "
        "the same member sending the same key again gets the creation the first request "
        "made, with 200, instead of a second creation. A member whose e-mail address is not "
        "confirmed yet gets 403 (`POST /api/v1/users/me/verify-email/` mails the link again).",
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description="1–64 letters, digits, `.`, `_`, `:` or `-`, new for each upload.",
            )
        ],
        request={"multipart/form-data": CreationSerializer},
        responses={
            201: CreationSerializer,
            200: OpenApiResponse(
                CreationSerializer, description="This upload was made before with this key."
            ),
            **errors(400, 401, 403, 429),
        },
    ),
    update=extend_schema(
        summary="Replace a creation's text, tags and status",
        parameters=[CREATION_ID],
        responses={200: CreationSerializer, **errors(400, 401, 403, 404, 429)},
    ),
    partial_update=extend_schema(
        summary="Change some of a creation's text, tags or status",
        parameters=[CREATION_ID],
        responses={200: CreationSerializer, **errors(400, 401, 403, 404, 429)},
    ),
    destroy=extend_schema(
        summary="Delete a creation",
        description="Its picture, scores and reports go with it.",
        parameters=[CREATION_ID],
        responses={204: None, **errors(401, 403, 404, 429)},
    ),
)
class CreationViewSet(viewsets.ModelViewSet):
    """Creations: read by anyone, uploaded by members, changed by their owner or a moderator."""

    serializer_class = CreationSerializer
    permission_classes = [IsAuthenticatedOrReadOnly, IsOwnerOrModerator]
    filterset_class = CreationFilter
    parser_classes = [MultiPartParser, FormParser, StrictJSONParser]
    lookup_value_regex = r"[0-9]+"  # not \d, which takes any Unicode digit (١, 𝟏)

    def get_queryset(self):
        return (
            Creation.objects.visible_to(self.request.user)
            .for_cards()
            .with_ranking_prior()
            .prefetch_related("parts")
            .order_by("-created_at", "-id")
        )

    def filter_queryset(self, queryset):
        # The list filters apply to the list only, not to one creation.
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)

    def get_throttles(self):
        throttles = super().get_throttles()
        if self.action == "create":
            throttles.append(UploadThrottle())
        return throttles

    def create(self, request, *args, **kwargs):
        try:
            creation_upload_check(owner=request.user)  # before the picture is read
        except EmailNotVerifiedError as error:
            # DRF would answer a Django PermissionDenied with its generic message.
            raise PermissionDenied(error.message) from error
        upload_key = self._upload_key(request)
        # A repeat is answered before its picture is processed again.
        earlier = creation_by_upload_key(owner=request.user, upload_key=upload_key)
        if earlier is None:
            serializer = self.get_serializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            creation, created = creation_create_once(
                owner=request.user, upload_key=upload_key, **serializer.validated_data
            )
        else:
            creation, created = earlier, False
        data = self.get_serializer(creation).data
        return Response(
            data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
            headers=self.get_success_headers(data),
        )

    @staticmethod
    def _upload_key(request) -> str:
        upload_key = request.headers.get("Idempotency-Key", "")
        if upload_key:
            try:
                validate_upload_key(upload_key)
            except DjangoValidationError as error:
                raise ValidationError({"Idempotency-Key": error.messages}) from error
        return upload_key

    def perform_update(self, serializer):
        serializer.instance = creation_update(
            creation=serializer.instance, actor=self.request.user, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        creation_delete(creation=instance, actor=self.request.user)


@extend_schema_view(
    list=extend_schema(
        summary="List tags",
        description="Tags of published creations with how many use each, most used first.",
        parameters=[
            OpenApiParameter("q", OpenApiTypes.STR, description="Only tags starting with this.")
        ],
        responses={200: TagSerializer(many=True), **errors(404, 429)},
    )
)
class TagViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The tag cloud as JSON."""

    serializer_class = TagSerializer
    filter_backends = []

    def get_queryset(self):
        tags = tag_cloud()
        prefix = search_text(self.request.query_params.get("q", ""), 50).lower()
        if prefix:
            tags = [tag for tag in tags if tag.name.startswith(prefix)]
        return tags
