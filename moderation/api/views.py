from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from creations.models import Creation
from moderation.services import report_check, report_create
from npu_site.api import errors

from .serializers import ReportSerializer


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
