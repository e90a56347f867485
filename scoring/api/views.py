"""Scoring's endpoints, under each creation's URL: its scores, and the caller's own score."""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from creations.api.serializers import CreationSerializer
from creations.models import Creation
from creations.visibility import scores_visible
from npu_site.api import ScoreWriteThrottle, errors
from scoring.selectors import creation_scores, member_scores, rater_distribution, score_of
from scoring.services import VoidedScoreError, score_upsert, score_withdraw, scores_reveal

from .serializers import (
    DistributionSerializer,
    MyScoreListSerializer,
    ScoreSerializer,
    ScoreWriteSerializer,
)

CREATION_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)
NOT_SCORED = "You have not scored this creation."
BLIND = (
    "Score this creation first, or reveal its scores (POST /api/v1/creations/{id}/reveal/): "
    "until then its scores are hidden from you."
)


def _visible_creation(request, pk) -> Creation:
    # Hidden creations are a 404 for everyone who may not see them.
    return get_object_or_404(Creation.objects.visible_to(request.user), pk=pk)


class CreationScoreList(generics.ListAPIView):
    """Every score a creation received, newest first."""

    serializer_class = ScoreSerializer
    filter_backends = []

    def get_queryset(self):
        creation = _visible_creation(self.request, self.kwargs["pk"])
        if not scores_visible(self.request.user, creation):
            raise PermissionDenied(BLIND)
        return creation_scores(creation=creation)

    @extend_schema(
        summary="List a creation's scores",
        description="Scores a moderator voided are left out. A member who has neither scored "
        "the creation nor revealed its scores gets a 403 (blind scoring).",
        parameters=[CREATION_ID],
        responses={200: ScoreSerializer(many=True), **errors(403, 404, 429)},
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
        try:
            score, created = score_upsert(
                user=request.user, creation=creation, **serializer.validated_data
            )
        except VoidedScoreError as error:
            raise PermissionDenied(str(error)) from error
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
        try:
            withdrawn = score_withdraw(user=request.user, creation=self._scorable(request, pk))
        except VoidedScoreError as error:
            raise PermissionDenied(str(error)) from error
        if not withdrawn:
            raise NotFound(NOT_SCORED)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RevealView(APIView):
    """Blind scoring's way out: show the caller a creation's scores before they score it."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Reveal a creation's scores",
        description="Remembered: the creation's averages, histogram and scores stay shown to "
        "you from now on. Answers the creation as you now see it. Owners and moderators see "
        "the scores anyway (nothing is recorded for them).",
        parameters=[CREATION_ID],
        request=None,
        responses={200: CreationSerializer, **errors(401, 404, 429)},
    )
    def post(self, request, pk):
        creation = _visible_creation(request, pk)
        if not scores_visible(request.user, creation):
            scores_reveal(user=request.user, creation=creation)
        return Response(CreationSerializer(creation, context={"request": request}).data)


class MyScoreList(generics.ListAPIView):
    """Everything the caller scored, newest first, each beside the creation's averages."""

    serializer_class = MyScoreListSerializer
    permission_classes = [IsAuthenticated]
    filter_backends = []

    def get_queryset(self):
        return member_scores(member=self.request.user, viewer=self.request.user)

    @extend_schema(
        summary="List your scores",
        description="Newest first, each with the creation's current averages. A score a "
        "moderator voided shows `voided: true`: it no longer counts.",
        responses={200: MyScoreListSerializer(many=True), **errors(401, 404, 429)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class MyScoreDistributionView(APIView):
    """How the caller uses the scale, beside the site's average rater."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Your score distribution",
        description="For each value 5 to 1, how often you give it and how often the site's "
        "average rater does (percentages; both axes counted). The site's figures are "
        "recomputed at most hourly. With no scores yet: `count` 0 and every `mine` 0.",
        responses={200: DistributionSerializer, **errors(401, 429)},
    )
    def get(self, request):
        distribution = rater_distribution(member=request.user) or {
            "count": 0,
            "mean": None,
            "rows": [{"value": value, "mine": 0, "site": None} for value in range(5, 0, -1)],
        }
        return Response(DistributionSerializer(distribution).data)
