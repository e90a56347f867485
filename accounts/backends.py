from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class UsernameOrEmailBackend(ModelBackend):
    """Log in with the username or the e-mail address (any letter case)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username and "@" in username:
            User = get_user_model()
            user = User.objects.filter(email__iexact=username.strip()).first()
            if user is None:
                User().set_password(password)  # same work as a real check: no timing leak
                return None
            username = user.get_username()
        return super().authenticate(request, username=username, password=password, **kwargs)
