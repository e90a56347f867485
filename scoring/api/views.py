"""Scoring's endpoints, under each creation's URL: its scores, and the caller's own score."""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from creations.models import Creation
from npu_site.api import ScoreWriteThrottle, errors
from scoring.selectors import creation_scores, score_of
from scoring.services import score_upsert, score_withdraw

from .serializers import ScoreSerializer, ScoreWriteSerializer

CREATION_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)
NOT_SCORED = "You have not scored this creation."


def _visible_creation(request, pk) -> Creation:
    # Hidden creations are a 404 for everyone who may not see them.
    return get_object_or_404(Creation.objects.visible_to(request.user), pk=pk)


class CreationScoreList(generics.ListAPIView):
    """Every score a creation received, newest first."""

    serializer_class = ScoreSerializer
    filter_backends = []

    def get_queryset(self):
        return creation_scores(creation=_visible_creation(self.request, self.kwargs["pk"]))

    @extend_schema(
        summary="List a creation's scores",
        parameters=[CREATION_ID],
        responses={200: ScoreSerializer(many=True), **errors(404, 429)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class MyScoreView(APIView):
    """The caller's score of one creation: read, create or replace, withdraw."""

    permission_classes = [IsAuthenticated]

    def get_throttles(self):
        return [*super().get_throttles(), ScoreWriteThrottle()]

    def _scorable(self, request, pk) -> Creation:
        creation = _visible_creation(request, pk)
        if not creation.can_score(request.user):
            raise PermissionDenied("You can't score your own creation.")
        return creation

    @extend_schema(
        summary="Get your score of a creation",
        parameters=[CREATION_ID],
        responses={200: ScoreSerializer, **errors(401, 403, 404, 429)},
    )
    def get(self, request, pk):
        score = score_of(user=request.user, creation=self._scorable(request, pk))
        if score is None:
            raise NotFound(NOT_SCORED)
        return Response(ScoreSerializer(score).data)

    @extend_schema(
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
    def put(self, request, pk):
        creation = self._scorable(request, pk)
        serializer = ScoreWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        score, created = score_upsert(
            user=request.user, creation=creation, **serializer.validated_data
        )
        return Response(
            ScoreSerializer(score).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        summary="Withdraw your score",
        parameters=[CREATION_ID],
        responses={204: None, **errors(401, 403, 404, 429)},
    )
    def delete(self, request, pk):
        if not score_withdraw(user=request.user, creation=self._scorable(request, pk)):
            raise NotFound(NOT_SCORED)
        return Response(status=status.HTTP_204_NO_CONTENT)
