"""Comment endpoints: a creation's thread (read, write), one comment (edit, delete, report)."""

from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated, IsAuthenticatedOrReadOnly
from rest_framework.response import Response
from rest_framework.views import APIView

from creations.models import Creation
from npu_site.api import CommentWriteThrottle, errors

from ..models import Comment
from ..selectors import comment_for_viewer, creation_comments
from ..services.comments import (
    comment_create,
    comment_delete,
    comment_report_check,
    comment_report_create,
    comment_update,
    comment_update_check,
)
from .serializers_comments import (
    CommentCreateSerializer,
    CommentReportSerializer,
    CommentSerializer,
    CommentUpdateSerializer,
)

CREATION_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)
COMMENT_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)


def _visible_creation(request, pk) -> Creation:
    # A hidden creation, and its thread, are a 404 for everyone who may not see it.
    return get_object_or_404(Creation.objects.visible_to(request.user), pk=pk)


def _visible_comment(request, pk) -> Comment:
    try:
        return comment_for_viewer(viewer=request.user, pk=pk)
    except Comment.DoesNotExist as error:
        raise NotFound("No such comment.") from error


class CreationCommentList(generics.ListAPIView):
    """A creation's thread: anyone reads it, members add to it."""

    serializer_class = CommentSerializer
    permission_classes = [IsAuthenticatedOrReadOnly]
    filter_backends = []

    def get_throttles(self):
        return [*super().get_throttles(), CommentWriteThrottle()]

    def get_queryset(self):
        return creation_comments(creation=_visible_creation(self.request, self.kwargs["pk"]))

    @extend_schema(
        summary="List a creation's comments",
        description=(
            "The whole thread as one flat list, oldest first; a reply carries its `parent`. "
            "A deleted comment that has replies stays as a placeholder: `is_deleted` true, "
            "empty `body`, null `user`."
        ),
        parameters=[CREATION_ID],
        responses={200: CommentSerializer(many=True), **errors(404, 429)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Comment on a creation, or reply to a comment",
        description=(
            "`parent` (optional) is a top-level comment of the same creation. At most "
            "10 comments a minute per member, with the pages."
        ),
        parameters=[CREATION_ID],
        request=CommentCreateSerializer,
        responses={201: CommentSerializer, **errors(400, 401, 403, 404, 429)},
        examples=[OpenApiExample("A reply", value={"body": "How is that hand attached?"})],
    )
    def post(self, request, pk):
        creation = _visible_creation(request, pk)
        serializer = CommentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        comment = comment_create(user=request.user, creation=creation, **serializer.validated_data)
        return Response(CommentSerializer(comment).data, status=status.HTTP_201_CREATED)


class CommentDetail(APIView):
    """One comment: its author edits it (for 15 minutes) or deletes it; so may moderators."""

    permission_classes = [IsAuthenticated]

    def get_throttles(self):
        return [*super().get_throttles(), CommentWriteThrottle()]

    @extend_schema(
        summary="Edit a comment",
        description="The author within 15 minutes of posting, or a moderator.",
        parameters=[COMMENT_ID],
        request=CommentUpdateSerializer,
        responses={200: CommentSerializer, **errors(400, 401, 403, 404, 429)},
    )
    def patch(self, request, pk):
        comment = _visible_comment(request, pk)
        # A refusal (403) before the body is read.
        comment_update_check(comment=comment, actor=request.user)
        serializer = CommentUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        comment = comment_update(comment=comment, actor=request.user, **serializer.validated_data)
        return Response(CommentSerializer(comment).data)

    @extend_schema(
        summary="Delete a comment",
        description=(
            "The author or a moderator. A comment with replies stays as a placeholder; "
            "deleting a deleted comment changes nothing."
        ),
        parameters=[COMMENT_ID],
        responses={204: None, **errors(401, 403, 404, 429)},
    )
    def delete(self, request, pk):
        comment_delete(comment=_visible_comment(request, pk), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CommentReportView(generics.GenericAPIView):
    """A member flags a comment for the moderators."""

    serializer_class = CommentReportSerializer
    permission_classes = [IsAuthenticated]
    filter_backends = []

    @extend_schema(
        summary="Report a comment to the moderators",
        parameters=[COMMENT_ID],
        request=CommentReportSerializer,
        responses={201: CommentReportSerializer, **errors(400, 401, 403, 404, 429)},
    )
    def post(self, request, pk):
        comment = _visible_comment(request, pk)
        # Refusals (one's own comment: 403; a second report: 400) before the body is read.
        comment_report_check(reporter=request.user, comment=comment)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        report = comment_report_create(
            reporter=request.user, comment=comment, **serializer.validated_data
        )
        return Response(CommentReportSerializer(report).data, status=status.HTTP_201_CREATED)


urlpatterns = [
    path(
        "creations/<int:pk>/comments/",
        CreationCommentList.as_view(),
        name="creation-comments",
    ),
    path("comments/<int:pk>/", CommentDetail.as_view(), name="comment-detail"),
    path("comments/<int:pk>/reports/", CommentReportView.as_view(), name="comment-reports"),
]
