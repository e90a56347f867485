from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.functional import cached_property

from npu_site.text import validate_line, validate_text

from .validators import validate_single_script

MODERATORS_GROUP = "moderators"


class User(AbstractUser):
    """A member of NPU. The e-mail address is private: it is never shown to other members."""

    username = models.CharField(
        "username",
        max_length=150,
        unique=True,
        help_text="Required. 150 characters or fewer. Letters, digits and @/./+/-/_ only.",
        # Letters of one script only, so nobody can pass for `axel` as `аxel` (Cyrillic а).
        validators=[UnicodeUsernameValidator(), validate_single_script],
        error_messages={"unique": "A user with that username already exists."},
    )
    # Django's validator lets a quoted local part hold controls ("a\x07"@…) and a domain any
    # character from U+00A1 up, bidi overrides included.
    email = models.EmailField("email address", max_length=254, validators=[validate_line])
    display_name = models.CharField(
        max_length=50,
        blank=True,
        help_text="Shown instead of your username when set.",
        validators=[validate_line],
    )
    bio = models.TextField(max_length=1000, blank=True, validators=[validate_text])

    objects = UserManager()

    REQUIRED_FIELDS = ["email"]

    class Meta:
        ordering = ["username"]
        constraints = [
            # Two accounts must not share an address in any letter case.
            models.UniqueConstraint(
                Lower("email"),
                name="accounts_user_email_ci_unique",
                violation_error_message="An account with this e-mail address already exists.",
            ),
        ]

    def __str__(self) -> str:
        return self.username

    def get_absolute_url(self) -> str:
        return reverse("accounts:profile", kwargs={"username": self.username})

    def is_new_email(self, email: str) -> bool:
        """Whether `email` (as typed) differs from the member's address; case counts."""
        return User.objects.normalize_email(str(email).strip()) != self.email

    @property
    def public_name(self) -> str:
        return self.display_name or self.username

    @cached_property
    def is_moderator(self) -> bool:
        """Superusers, and staff in the moderators group (user_set_moderator sets both)."""
        if not (self.is_active and self.is_staff):
            return False  # no query for the common case: a member
        return self.is_superuser or self.groups.filter(name=MODERATORS_GROUP).exists()
