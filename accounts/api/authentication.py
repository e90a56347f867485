"""API token authentication that refuses a suspended or banned member's token with the reason."""

from rest_framework import authentication
from rest_framework.exceptions import AuthenticationFailed


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication; a restricted member's token gets a 401 that says why and
    until when (User.restriction_message). The token is kept: it works again once lifted."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if user.is_restricted:
            raise AuthenticationFailed(user.restriction_message, code="restricted")
        return user, token
