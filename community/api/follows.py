"""follows: follow or unfollow a member or a tag, and the following feed."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from taggit.models import Tag

from accounts.models import User
from creations.api.serializers import CreationSerializer
from creations.selectors import tag_is_public
from npu_site.api import errors

from ..feed import feed_creations, following_of, is_following
from ..services.follows import follow_add, follow_remove

USERNAME = OpenApiParameter("username", OpenApiTypes.STR, OpenApiParameter.PATH)
SLUG = OpenApiParameter("slug", OpenApiTypes.STR, OpenApiParameter.PATH)


class FollowStateSerializer(serializers.Serializer):
    following = serializers.BooleanField(help_text="Whether you follow it (always true).")


def _follow_response(created: bool) -> Response:
    return Response(
        FollowStateSerializer({"following": True}).data,
        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
    )


class MemberFollowView(APIView):
    """The caller's follow of a member: follow (PUT) or unfollow (DELETE), both idempotent."""

    permission_classes = [IsAuthenticated]

    def _member(self, username) -> User:
        return get_object_or_404(User, username=username, is_active=True)

    @extend_schema(
        summary="Follow a member",
        description="201 when new, 200 when you already did. Their new creations show in "
        "your feed, and they hear that you follow them. Following yourself is a 400.",
        parameters=[USERNAME],
        request=None,
        responses={
            201: FollowStateSerializer,
            200: FollowStateSerializer,
            **errors(400, 401, 404, 429),
        },
    )
    def put(self, request, username):
        created = follow_add(follower=request.user, user=self._member(username))
        return _follow_response(created)

    @extend_schema(
        summary="Unfollow a member",
        description="204 whether or not you followed them; yourself is a 400.",
        parameters=[USERNAME],
        request=None,
        responses={204: None, **errors(400, 401, 404, 429)},
    )
    def delete(self, request, username):
        follow_remove(follower=request.user, user=self._member(username))
        return Response(status=status.HTTP_204_NO_CONTENT)


class TagFollowView(APIView):
    """The caller's follow of a tag: follow (PUT) or unfollow (DELETE), both idempotent.

    A tag only hidden creations carry does not exist for the public (a 404), unless the
    caller follows it already.
    """

    permission_classes = [IsAuthenticated]

    def _tag(self, request, slug) -> Tag:
        tag = get_object_or_404(Tag, slug=slug)
        if not is_following(follower=request.user, tag=tag) and not tag_is_public(tag=tag):
            raise Http404("No such tag.")
        return tag

    @extend_schema(
        summary="Follow a tag",
        description="201 when new, 200 when you already did. New creations with the tag "
        "show in your feed.",
        parameters=[SLUG],
        request=None,
        responses={
            201: FollowStateSerializer,
            200: FollowStateSerializer,
            **errors(401, 404, 429),
        },
    )
    def put(self, request, slug):
        created = follow_add(follower=request.user, tag=self._tag(request, slug))
        return _follow_response(created)

    @extend_schema(
        summary="Unfollow a tag",
        description="204 whether or not you followed it.",
        parameters=[SLUG],
        request=None,
        responses={204: None, **errors(401, 404, 429)},
    )
    def delete(self, request, slug):
        follow_remove(follower=request.user, tag=self._tag(request, slug))
        return Response(status=status.HTTP_204_NO_CONTENT)


class FeedList(generics.ListAPIView):
    """The following feed: the newest creations of the members and tags the caller follows."""

    serializer_class = CreationSerializer
    permission_classes = [IsAuthenticated]
    filter_backends = []

    def get_queryset(self):
        following = following_of(member=self.request.user)
        return feed_creations(following=following).prefetch_related("parts").with_ranking_prior()

    @extend_schema(
        summary="Your following feed",
        description="Published creations by the members you follow or carrying a tag you "
        "follow, each once, newest first; paginated like the creations list.",
        responses={200: CreationSerializer(many=True), **errors(401, 404, 429)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


urlpatterns = [
    path("users/<text:username>/follow/", MemberFollowView.as_view(), name="user-follow"),
    path("tags/<text:slug>/follow/", TagFollowView.as_view(), name="tag-follow"),
    path("feed/", FeedList.as_view(), name="feed"),
]
