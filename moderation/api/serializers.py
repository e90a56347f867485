from rest_framework import serializers

from moderation.models import Appeal, Report


class ReportSerializer(serializers.ModelSerializer):
    class Meta:
        model = Report
        fields = ["id", "reason", "note", "created_at"]
        read_only_fields = ["id", "created_at"]


class AppealSerializer(serializers.ModelSerializer):
    creation = serializers.IntegerField(source="creation_id", read_only=True)
    note = serializers.CharField(
        max_length=1000, help_text="Why the creation should be published again."
    )

    class Meta:
        model = Appeal
        fields = ["id", "creation", "note", "status", "created_at", "decided_at", "decision_note"]
        read_only_fields = ["id", "status", "created_at", "decided_at", "decision_note"]
