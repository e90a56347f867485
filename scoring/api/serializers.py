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


class ScoredCreationSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    url = serializers.HyperlinkedIdentityField(view_name="api:creation-detail")
    title = serializers.CharField(read_only=True)
    thumbnail = serializers.FileField(read_only=True)
    owner = serializers.CharField(source="owner.username", read_only=True)
    score_count = serializers.IntegerField(read_only=True)
    creativity_avg = serializers.FloatField(read_only=True, allow_null=True)
    uniqueness_avg = serializers.FloatField(read_only=True, allow_null=True)
    rating = serializers.FloatField(read_only=True, allow_null=True)


class MyScoreListSerializer(serializers.ModelSerializer):
    """One of the caller's scores beside the creation's averages (which the caller sees: they
    scored it)."""

    creation = ScoredCreationSerializer(read_only=True)
    voided = serializers.SerializerMethodField(
        help_text="A moderator voided the score: it no longer counts."
    )

    class Meta:
        model = Score
        fields = [
            "id",
            "creation",
            "creativity",
            "uniqueness",
            "voided",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_voided(self, score) -> bool:
        return score.is_voided


class DistributionRowSerializer(serializers.Serializer):
    value = serializers.IntegerField(help_text="A score value, 5 down to 1.")
    mine = serializers.IntegerField(help_text="How often you give it, in percent.")
    site = serializers.IntegerField(
        allow_null=True, help_text="How often the site's average rater gives it, in percent."
    )


class DistributionSerializer(serializers.Serializer):
    """How the caller uses the scale, beside the site's average rater (both axes counted)."""

    count = serializers.IntegerField(help_text="Your scores that count.")
    mean = serializers.FloatField(allow_null=True, help_text="Your mean score value.")
    rows = DistributionRowSerializer(many=True)
