from rest_framework import serializers

from npu_site.text import validate_text

from ..forms import MAX_ID
from ..models import COMMENT_MAX_LENGTH, Comment, CommentReport
from ..text import normalised_line_breaks


class CommentAuthorSerializer(serializers.Serializer):
    username = serializers.CharField(read_only=True)
    display_name = serializers.CharField(read_only=True)


class CommentSerializer(serializers.ModelSerializer):
    """A comment as the API shows it; a deleted one keeps its place, and nothing else."""

    creation = serializers.IntegerField(source="creation_id", read_only=True)
    parent = serializers.IntegerField(source="parent_id", read_only=True, allow_null=True)
    user = CommentAuthorSerializer(
        read_only=True, allow_null=True, help_text="null once deleted, or for a deleted member"
    )
    is_deleted = serializers.BooleanField(read_only=True)

    class Meta:
        model = Comment
        fields = [
            "id",
            "creation",
            "parent",
            "user",
            "body",
            "created_at",
            "edited_at",
            "is_deleted",
        ]
        read_only_fields = fields

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if instance.is_deleted:
            data["user"], data["body"] = None, ""
        return data


class CommentBodyField(serializers.CharField):
    """A comment's text, line breaks as stored (plain newlines), 1 to COMMENT_MAX_LENGTH
    characters."""

    def __init__(self, **kwargs):
        super().__init__(max_length=COMMENT_MAX_LENGTH, validators=[validate_text], **kwargs)

    def to_internal_value(self, data):
        return normalised_line_breaks(super().to_internal_value(data)).strip()


class CommentCreateSerializer(serializers.Serializer):
    body = CommentBodyField()
    parent = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_ID,
        help_text="The id of a top-level comment of the same creation, to reply to it.",
    )


class CommentUpdateSerializer(serializers.Serializer):
    body = CommentBodyField()


class CommentReportSerializer(serializers.ModelSerializer):
    class Meta:
        model = CommentReport
        fields = ["id", "reason", "note", "created_at"]
        read_only_fields = ["id", "created_at"]
