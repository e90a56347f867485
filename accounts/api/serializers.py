from rest_framework import serializers

from accounts.models import User


class PublicUserSerializer(serializers.ModelSerializer):
    creation_count = serializers.IntegerField(read_only=True, help_text="Published creations.")

    class Meta:
        model = User
        fields = ["username", "display_name", "bio", "date_joined", "creation_count"]
        read_only_fields = fields


class OwnUserSerializer(serializers.ModelSerializer):
    """The caller's own profile. A new `email` needs `current_password` and takes effect when
    the member opens the link mailed to it (see UserViewSet.me). `email_verified` says whether
    the member confirmed their address: uploads need it."""

    creation_count = serializers.IntegerField(read_only=True, help_text="Published creations.")
    current_password = serializers.CharField(
        write_only=True,
        required=False,
        trim_whitespace=False,
        style={"input_type": "password"},
        help_text="Your password: needed to change `email`.",
    )

    class Meta:
        model = User
        fields = [
            "username",
            "display_name",
            "bio",
            "date_joined",
            "creation_count",
            "email",
            "email_verified",
            "current_password",
        ]
        read_only_fields = ["username", "date_joined", "creation_count", "email_verified"]

    def validate(self, attrs):
        email = attrs.get("email")
        if email is not None and self.instance.is_new_email(email):
            password = attrs.get("current_password")
            if not password:
                raise serializers.ValidationError(
                    {"current_password": "Send your current password to change your e-mail."}
                )
            if not self.instance.check_password(password):
                raise serializers.ValidationError(
                    {"current_password": "That is not your current password."}
                )
        return attrs


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(help_text="Username or e-mail address.")
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()


class AccountDeleteSerializer(serializers.Serializer):
    password = serializers.CharField(
        trim_whitespace=False,
        style={"input_type": "password"},
        help_text="Your password, to confirm.",
    )


class DataExportSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    status = serializers.CharField(
        read_only=True, help_text="`pending`, `ready`, `failed` or `expired`."
    )
