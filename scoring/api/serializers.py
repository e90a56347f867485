from rest_framework import serializers

from scoring.models import SCORE_MAX, SCORE_MIN, Score


class ScoreSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = Score
        fields = ["id", "user", "creativity", "uniqueness", "created_at", "updated_at"]
        read_only_fields = fields


class ScoreWriteSerializer(serializers.Serializer):
    creativity = serializers.IntegerField(min_value=SCORE_MIN, max_value=SCORE_MAX)
    uniqueness = serializers.IntegerField(min_value=SCORE_MIN, max_value=SCORE_MAX)
