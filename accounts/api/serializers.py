from rest_framework import serializers

from accounts.models import User


class PublicUserSerializer(serializers.ModelSerializer):
    creation_count = serializers.IntegerField(read_only=True, help_text="Published creations.")

    class Meta:
        model = User
        fields = ["username", "display_name", "bio", "date_joined", "creation_count"]
        read_only_fields = fields


class OwnUserSerializer(serializers.ModelSerializer):
    creation_count = serializers.IntegerField(read_only=True, help_text="Published creations.")

    class Meta:
        model = User
        fields = ["username", "display_name", "bio", "date_joined", "creation_count", "email"]
        read_only_fields = ["username", "date_joined", "creation_count"]

    def validate_email(self, value):
        email = User.objects.normalize_email(value.strip())
        if User.objects.filter(email__iexact=email).exclude(pk=self.instance.pk).exists():
            raise serializers.ValidationError("An account with this e-mail address already exists.")
        return email


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(help_text="Username or e-mail address.")
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
