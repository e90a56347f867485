from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from taggit.models import Tag

from creations.images import image_process
from creations.models import Creation, RankingPrior
from creations.services import parts_for
from creations.tagging import tags_parse
from creations.visibility import scores_visible_ids


class OwnerSerializer(serializers.Serializer):
    username = serializers.CharField(read_only=True)
    display_name = serializers.CharField(read_only=True)


class CommaSeparatedListField(serializers.ListField):
    """A list in: a JSON list, repeated form fields or one comma-separated string.

    Subclasses give `parser` (pieces in, validated value out, Django's ValidationError on bad
    input) and say how the stored value is shown.
    """

    child = serializers.CharField(allow_blank=True, max_length=1000)

    def get_value(self, dictionary):
        value = super().get_value(dictionary)
        return [value] if isinstance(value, str) else value

    def to_internal_value(self, data):
        if isinstance(data, str):
            data = [data]
        try:
            return self.parser(super().to_internal_value(data))
        except DjangoValidationError as error:
            messages = (
                error.message_dict.get(self.field_name) if hasattr(error, "error_dict") else None
            )
            raise serializers.ValidationError(messages or error.messages) from error


class TagListField(CommaSeparatedListField):
    """Tag names in, normalised; names out."""

    parser = staticmethod(tags_parse)

    def get_attribute(self, instance):
        return instance.tag_list

    def to_representation(self, value):
        return [tag.name for tag in value]


class PartListField(CommaSeparatedListField):
    """Part numbers in, resolved to parts (unknown ones are an error); part numbers out."""

    parser = staticmethod(parts_for)

    def to_representation(self, value):
        return [part.part_num for part in value.all()]


class ImageUploadField(serializers.FileField):
    """A picture in, through the image pipeline; its absolute URL out."""

    def to_internal_value(self, data):
        upload = super().to_internal_value(data)
        try:
            return image_process(upload)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from error


# Set by the server: the picture's size, the times, the score aggregates, and how many
# comments show and members saved it (kept by community.services).
READ_ONLY_FIELDS = [
    "width",
    "height",
    "created_at",
    "updated_at",
    "score_count",
    "creativity_avg",
    "uniqueness_avg",
    "rating",
    "comment_count",
    "favourite_count",
]


# What only the owner and moderators see of a creation: its status, and who hid it and why.
OWNER_AND_MODERATOR_FIELDS = ("status", "hidden_by_moderator", "hidden_reason")
# What a member who has neither scored nor revealed a creation does not see (blind scoring).
BLIND_FIELDS = ("creativity_avg", "uniqueness_avg", "rating")
BLIND_RANKING_FIELDS = ("top", "calibrated")


class RankingSerializer(serializers.Serializer):
    """The stored values the orderings sort by and the prior behind `top` (creations.ranking;
    explained at /about/ranking/)."""

    top = serializers.FloatField(
        allow_null=True,
        help_text="What `ordering=top` sorts by: the rating as if it also had `prior_weight` "
        "scores at `prior_mean`. Null when unscored (sorted last).",
    )
    trending = serializers.FloatField(
        allow_null=True,
        help_text="What `ordering=trending` sorts by: log2 of the scores' decayed count, each "
        "score halving every 3 days, measured from 2020-01-01. Null when unscored.",
    )
    calibrated = serializers.FloatField(
        allow_null=True,
        help_text="What `ordering=calibrated` sorts by: the rating with each rater's scores "
        "measured against their own habits, on the 1–5 scale. Null when unscored.",
    )
    prior_mean = serializers.FloatField(help_text="The site-wide mean rating behind `top`.")
    prior_weight = serializers.IntegerField(help_text="How many scores the prior counts as.")


class CreationListSerializer(serializers.ListSerializer):
    """A page of creations: whose scores the caller sees is asked once for the whole page."""

    def to_representation(self, data):
        items = list(data.all() if hasattr(data, "all") else data)
        self.child.remember_visible(items)
        return super().to_representation(items)


class CreationSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:creation-detail")
    tags = TagListField(required=False, help_text="Tag names; at most 10.")
    parts = PartListField(
        required=False, help_text="Part numbers of the featured parts; at most 10."
    )
    image = ImageUploadField(
        help_text="JPEG, PNG, WebP, GIF or HEIC, up to 10 MB and 40 megapixels. "
        "Only when creating: a creation's picture cannot be replaced."
    )
    thumbnail = serializers.FileField(read_only=True)
    owner = OwnerSerializer(read_only=True)
    status = serializers.ChoiceField(
        choices=Creation.Status.choices,
        required=False,
        help_text="Only shown to, and only changed by, the owner and moderators.",
    )
    scores_visible = serializers.SerializerMethodField(
        help_text="Whether the averages are shown to the caller. A member sees them once they "
        "have scored the creation or revealed its scores (`POST …/reveal/`); until then "
        "`creativity_avg`, `uniqueness_avg`, `rating`, `ranking.top` and "
        "`ranking.calibrated` are null. Anonymous callers, the owner and moderators always "
        "see them."
    )
    ranking = serializers.SerializerMethodField()

    class Meta:
        model = Creation
        list_serializer_class = CreationListSerializer
        fields = [
            "id",
            "url",
            "title",
            "description",
            "alt_text",
            "tags",
            "parts",
            "image",
            "thumbnail",
            "width",
            "height",
            "owner",
            *READ_ONLY_FIELDS[2:],
            "scores_visible",
            "ranking",
            "status",
            "hidden_by_moderator",
            "hidden_reason",
        ]
        read_only_fields = [*READ_ONLY_FIELDS, "hidden_by_moderator"]
        extra_kwargs = {
            "hidden_reason": {
                "help_text": "Why it is hidden; shown to the owner when a moderator hid it. "
                "Only shown to, and only set by, the owner and moderators."
            }
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            # Updates never take a new picture.
            self.fields["image"].read_only = True

    def validate(self, attrs):
        if self.instance is not None and "image" in getattr(self, "initial_data", {}):
            raise serializers.ValidationError(
                {"image": ["A creation's picture cannot be replaced; upload a new creation."]}
            )
        return attrs

    def validate_title(self, value):
        if not value.strip():
            raise serializers.ValidationError("Give your creation a title.")
        return value

    def _viewer(self):
        request = self.context.get("request")
        return getattr(request, "user", None)

    def remember_visible(self, creations) -> None:
        """Find, in one query, which of `creations` the caller sees the scores of."""
        viewer = self._viewer()
        known = self.context.setdefault("scores_visible_ids", set())
        checked = self.context.setdefault("scores_checked_ids", set())
        unknown = [creation for creation in creations if creation.pk not in checked]
        if unknown:
            # Without a request (a shell, a task) nothing is hidden.
            known.update(
                scores_visible_ids(viewer, unknown)
                if viewer is not None
                else (creation.pk for creation in unknown)
            )
            checked.update(creation.pk for creation in unknown)

    def get_scores_visible(self, instance) -> bool:
        if instance.pk not in self.context.get("scores_checked_ids", ()):
            self.remember_visible([instance])
        return instance.pk in self.context["scores_visible_ids"]

    def _prior(self) -> RankingPrior:
        if "ranking_prior" not in self.context:
            self.context["ranking_prior"] = RankingPrior.current()
        return self.context["ranking_prior"]

    @extend_schema_field(RankingSerializer)
    def get_ranking(self, instance) -> dict:
        # From the list's with_ranking_prior() when it ran, else read once per response.
        if hasattr(instance, "prior_mean"):
            prior_mean, prior_weight = instance.prior_mean, instance.prior_weight
        else:
            prior = self._prior()
            prior_mean, prior_weight = prior.mean, prior.weight
        ranking = {
            "top": instance.top,
            "trending": instance.trending,
            "calibrated": instance.calibrated,
            "prior_mean": prior_mean,
            "prior_weight": prior_weight,
        }
        if not self.get_scores_visible(instance):
            ranking.update(dict.fromkeys(BLIND_RANKING_FIELDS))
        return ranking

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is None or not instance.can_edit(request.user):
            for private in OWNER_AND_MODERATOR_FIELDS:
                data.pop(private, None)
        if not data["scores_visible"]:
            data.update(dict.fromkeys(BLIND_FIELDS))
        return data


class TagSerializer(serializers.ModelSerializer):
    slug = serializers.CharField(read_only=True, help_text="Used in /tags/<slug>/ page URLs.")
    count = serializers.IntegerField(read_only=True, help_text="Published creations with it.")

    class Meta:
        model = Tag
        fields = ["name", "slug", "count"]
