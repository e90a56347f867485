"""favourites: save or unsave a creation, and list one's own saved creations."""

from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from creations.api.serializers import CreationSerializer
from creations.models import Creation
from npu_site.api import errors

from ..saved import saved_creations
from ..services.favourites import favourite_add, favourite_remove

CREATION_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)


class FavouriteStateSerializer(serializers.Serializer):
    saved = serializers.BooleanField(help_text="Whether you saved the creation (always true).")
    favourite_count = serializers.IntegerField(help_text="How many members saved it.")


class FavouriteView(APIView):
    """The caller's save of one creation: save (PUT) or unsave (DELETE), both idempotent."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Save a creation",
        description="201 when newly saved, 200 when it already was. What you save is private; "
        "the creation only shows how many members saved it.",
        parameters=[CREATION_ID],
        request=None,
        responses={
            201: FavouriteStateSerializer,
            200: FavouriteStateSerializer,
            **errors(401, 404, 429),
        },
    )
    def put(self, request, pk):
        creation = get_object_or_404(Creation.objects.visible_to(request.user), pk=pk)
        created = favourite_add(user=request.user, creation=creation)
        count = Creation.objects.values_list("favourite_count", flat=True).get(pk=creation.pk)
        return Response(
            FavouriteStateSerializer({"saved": True, "favourite_count": count}).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        summary="Unsave a creation",
        description="204 whether or not you had saved it.",
        parameters=[CREATION_ID],
        request=None,
        responses={204: None, **errors(401, 404, 429)},
    )
    def delete(self, request, pk):
        creation = get_object_or_404(Creation.objects.visible_to(request.user), pk=pk)
        favourite_remove(user=request.user, creation=creation)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MyFavouriteList(generics.ListAPIView):
    """The caller's saved creations, newest saved first."""

    serializer_class = CreationSerializer
    permission_classes = [IsAuthenticated]
    filter_backends = []

    def get_queryset(self):
        return saved_creations(member=self.request.user, with_parts=True)

    @extend_schema(
        summary="List your saved creations",
        description="Newest saved first. Creations hidden since you saved them are left out "
        "(unless they are yours).",
        responses={200: CreationSerializer(many=True), **errors(401, 404, 429)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


urlpatterns = [
    path("creations/<int:pk>/favourite/", FavouriteView.as_view(), name="creation-favourite"),
    path("users/me/favourites/", MyFavouriteList.as_view(), name="my-favourites"),
]
