from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from creations.models import Creation
from moderation.appeals import NotOwnerAppealError, appeal_create, appeal_latest
from moderation.services import report_check, report_create
from npu_site.api import errors

from .serializers import AppealSerializer, ReportSerializer


class CreationReportView(GenericAPIView):
    """A member flags a creation for the moderators."""

    serializer_class = ReportSerializer
    permission_classes = [IsAuthenticated]
    filter_backends = []

    @extend_schema(
        summary="Report a creation to the moderators",
        parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        request=ReportSerializer,
        responses={201: ReportSerializer, **errors(400, 401, 403, 404, 429)},
    )
    def post(self, request, pk):
        creation = get_object_or_404(Creation.objects.visible_to(request.user), pk=pk)
        # Refusals (one's own creation: 403; a second report: 400) before the body is read.
        report_check(reporter=request.user, creation=creation)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        report = report_create(
            reporter=request.user, creation=creation, **serializer.validated_data
        )
        return Response(ReportSerializer(report).data, status=status.HTTP_201_CREATED)


class CreationAppealView(GenericAPIView):
    """The owner of a creation a moderator hid appeals, once per hide, with a note."""

    serializer_class = AppealSerializer
    permission_classes = [IsAuthenticated]
    filter_backends = []

    def _own_creation(self, request, pk) -> Creation:
        # Hidden from the caller: 404; seen but someone else's: 403.
        creation = get_object_or_404(Creation.objects.visible_to(request.user), pk=pk)
        if creation.owner_id != request.user.pk:
            raise PermissionDenied(NotOwnerAppealError.message)
        return creation

    @extend_schema(
        summary="The owner's latest appeal on their creation",
        parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses={200: AppealSerializer, **errors(401, 403, 404, 429)},
    )
    def get(self, request, pk):
        appeal = appeal_latest(owner=request.user, creation=self._own_creation(request, pk))
        if appeal is None:
            raise NotFound("You have not appealed a decision on this creation.")
        return Response(AppealSerializer(appeal).data)

    @extend_schema(
        summary="Appeal a moderator's hiding of one's creation",
        description=(
            "Only the owner, only for a creation a moderator hid (not one hidden with a "
            "suspended account), once per hide. A moderator grants it (the creation is "
            "published again) or denies it; the owner is notified either way."
        ),
        parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        request=AppealSerializer,
        responses={201: AppealSerializer, **errors(400, 401, 403, 404, 429)},
    )
    def post(self, request, pk):
        creation = self._own_creation(request, pk)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        appeal = appeal_create(
            owner=request.user, creation=creation, note=serializer.validated_data["note"]
        )
        return Response(AppealSerializer(appeal).data, status=status.HTTP_201_CREATED)
