from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated, IsAuthenticatedOrReadOnly
from rest_framework.response import Response

from creations.models import Creation, Part, Report
from creations.selectors import part_catalog, search_text, tag_cloud
from creations.services import (
    creation_create,
    creation_delete,
    creation_update,
    report_create,
)
from npu_site.api import ScoreWriteThrottle, UploadThrottle, errors
from scoring.api.serializers import ScoreSerializer, ScoreWriteSerializer
from scoring.selectors import score_of
from scoring.services import score_upsert, score_withdraw

from .filters import CreationFilter
from .permissions import IsOwnerOrModerator
from .serializers import CreationSerializer, PartSerializer, ReportSerializer, TagSerializer

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
        description="Multipart upload. `tags` may be repeated or one comma-separated value.",
        request={"multipart/form-data": CreationSerializer},
        responses={201: CreationSerializer, **errors(400, 401, 429)},
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
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return (
            Creation.objects.visible_to(self.request.user)
            .for_cards()
            .prefetch_related("parts")
            .order_by("-created_at", "-id")
        )

    def filter_queryset(self, queryset):
        # The list filters apply to the list only, not to one creation or its actions.
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)

    def get_throttles(self):
        throttles = super().get_throttles()
        if self.action == "create":
            throttles.append(UploadThrottle())
        elif self.action == "my_score":
            throttles.append(ScoreWriteThrottle())
        return throttles

    def perform_create(self, serializer):
        serializer.instance = creation_create(owner=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = creation_update(
            creation=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        creation_delete(creation=instance)

    def _visible_creation(self) -> Creation:
        # The object is looked up through get_queryset(), so hidden creations are a 404.
        return self.get_object()

    @extend_schema(
        summary="List a creation's scores",
        parameters=[CREATION_ID],
        responses={200: ScoreSerializer(many=True), **errors(404, 429)},
    )
    @action(
        detail=True,
        methods=["get"],
        permission_classes=[IsAuthenticatedOrReadOnly],
        filter_backends=[],
    )
    def scores(self, request, pk=None):
        creation = self._visible_creation()
        scores = creation.scores.select_related("user").order_by("-updated_at", "-id")
        page = self.paginate_queryset(scores)
        return self.get_paginated_response(ScoreSerializer(page, many=True).data)

    @extend_schema(
        methods=["GET"],
        summary="Get your score of a creation",
        parameters=[CREATION_ID],
        responses={200: ScoreSerializer, **errors(401, 403, 404, 429)},
    )
    @extend_schema(
        methods=["PUT"],
        summary="Score a creation, or change your score",
        description="201 when the score is new, 200 when it replaces your earlier one.",
        parameters=[CREATION_ID],
        request=ScoreWriteSerializer,
        responses={
            200: ScoreSerializer,
            201: ScoreSerializer,
            **errors(400, 401, 403, 404, 429),
        },
        examples=[OpenApiExample("A score", value={"creativity": 5, "uniqueness": 4})],
    )
    @extend_schema(
        methods=["DELETE"],
        summary="Withdraw your score",
        parameters=[CREATION_ID],
        responses={204: None, **errors(401, 403, 404, 429)},
    )
    @action(
        detail=True,
        methods=["get", "put", "delete"],
        url_path="my-score",
        permission_classes=[IsAuthenticated],
        filter_backends=[],
    )
    def my_score(self, request, pk=None):
        creation = self._visible_creation()
        if not creation.can_score(request.user):
            raise PermissionDenied("You can't score your own creation.")
        if request.method == "PUT":
            serializer = ScoreWriteSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            score, created = score_upsert(
                user=request.user, creation=creation, **serializer.validated_data
            )
            return Response(
                ScoreSerializer(score).data,
                status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
            )
        if request.method == "DELETE":
            if not score_withdraw(user=request.user, creation=creation):
                raise NotFound("You have not scored this creation.")
            return Response(status=status.HTTP_204_NO_CONTENT)
        score = score_of(user=request.user, creation=creation)
        if score is None:
            raise NotFound("You have not scored this creation.")
        return Response(ScoreSerializer(score).data)

    @extend_schema(
        summary="Report a creation to the moderators",
        parameters=[CREATION_ID],
        request=ReportSerializer,
        responses={201: ReportSerializer, **errors(400, 401, 403, 404, 429)},
    )
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated], filter_backends=[])
    def reports(self, request, pk=None):
        creation = self._visible_creation()
        if creation.owner_id == request.user.pk:
            raise PermissionDenied("You can't report your own creation.")
        serializer = ReportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if Report.objects.filter(creation=creation, reporter=request.user).exists():
            return Response(
                {"detail": "You have already reported this creation."},
                status=status.HTTP_400_BAD_REQUEST,
            )
        report = report_create(
            reporter=request.user, creation=creation, **serializer.validated_data
        )
        return Response(ReportSerializer(report).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(
        summary="List parts",
        description="The parts catalog with how many published creations feature each part, "
        "most featured first.",
        parameters=[
            OpenApiParameter(
                "q", OpenApiTypes.STR, description="Part number prefix or words of the name."
            )
        ],
        responses={200: PartSerializer(many=True), **errors(404, 429)},
    ),
    retrieve=extend_schema(
        summary="Get one part",
        parameters=[OpenApiParameter("part_num", OpenApiTypes.STR, OpenApiParameter.PATH)],
        responses={200: PartSerializer, **errors(404, 429)},
    ),
)
class PartViewSet(viewsets.ReadOnlyModelViewSet):
    """The parts catalog; filter creations by part with `GET /creations/?part=<part_num>`."""

    serializer_class = PartSerializer
    lookup_field = "part_num"
    lookup_value_regex = r"[^/]+"
    filter_backends = []

    def get_queryset(self):
        if self.action == "list":
            return part_catalog(query=self.request.query_params.get("q", ""))
        return Part.objects.with_creation_count().select_related("category")


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
            tags = tags.filter(Q(name__istartswith=prefix))
        return tags
