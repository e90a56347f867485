from rest_framework import serializers

from moderation.models import Report


class ReportSerializer(serializers.ModelSerializer):
    class Meta:
        model = Report
        fields = ["id", "reason", "note", "created_at"]
        read_only_fields = ["id", "created_at"]
