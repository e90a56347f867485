from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import viewsets

from creations.selectors import part_catalog, with_creation_counts
from npu_site.api import errors
from npu_site.converters import TextConverter
from parts.models import Part

from .serializers import PartSerializer


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
    lookup_value_regex = TextConverter.regex
    filter_backends = []

    def get_queryset(self):
        if self.action == "list":
            return part_catalog(query=self.request.query_params.get("q", ""))
        return Part.objects.select_related("category")

    def get_object(self):
        return with_creation_counts([super().get_object()])[0]
