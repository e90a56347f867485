from rest_framework import serializers

from parts.models import Part


class PartSerializer(serializers.ModelSerializer):
    category = serializers.CharField(source="category.name", default="", read_only=True)
    creation_count = serializers.IntegerField(
        read_only=True, help_text="Published creations featuring it."
    )

    class Meta:
        model = Part
        fields = ["part_num", "name", "category", "creation_count"]
