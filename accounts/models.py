from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property

from npu_site.text import validate_line, validate_text

from .validators import validate_single_script

MODERATORS_GROUP = "moderators"


class Restriction(models.TextChoices):
    SUSPENDED = "suspended", "Suspended"
    BANNED = "banned", "Banned"


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
    # Whether the member proved they read mail at `email`. Accounts made by create_user() or
    # createsuperuser count as verified; sign-up makes them unverified until the mailed link
    # is opened (accounts.services.signup_create, email_verify).
    email_verified = models.BooleanField(default=True, db_default=True)
    # A moderator vouched for the member: their uploads skip the review queue.
    trusted = models.BooleanField(
        default=False, db_default=False, help_text="Uploads skip the review queue."
    )
    # A moderator's suspension or ban (moderation.services): no log-in, no API token,
    # creations hidden, scores not counted, until `restriction_ends_at` (a suspension) or
    # until lifted (a ban, or a suspension without an end).
    restriction = models.CharField(
        max_length=10, choices=Restriction.choices, blank=True, default="", db_default=""
    )
    restriction_reason = models.TextField(
        max_length=1000, blank=True, default="", db_default="", validators=[validate_text]
    )
    restricted_at = models.DateTimeField(null=True, blank=True)
    restriction_ends_at = models.DateTimeField(null=True, blank=True)

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
    def is_restricted(self) -> bool:
        """Suspended or banned right now (a suspension past its end no longer counts, even
        before the sweep lifts it)."""
        if not self.restriction:
            return False
        return self.restriction_ends_at is None or self.restriction_ends_at > timezone.now()

    @property
    def restriction_message(self) -> str:
        """What a restricted member is told when they try to log in or use a token."""
        if self.restriction == Restriction.BANNED:
            text = "Your account is banned"
        elif self.restriction_ends_at is not None:
            until = timezone.localtime(self.restriction_ends_at).strftime("%Y-%m-%d %H:%M %Z")
            text = f"Your account is suspended until {until}"
        else:
            text = "Your account is suspended until a moderator lifts it"
        reason = self.restriction_reason.strip()
        return f"{text}. Reason: {reason}" if reason else f"{text}."

    @property
    def public_name(self) -> str:
        return self.display_name or self.username

    @cached_property
    def is_moderator(self) -> bool:
        """Superusers, and staff in the moderators group (user_set_moderator sets both)."""
        if not (self.is_active and self.is_staff):
            return False  # no query for the common case: a member
        return self.is_superuser or self.groups.filter(name=MODERATORS_GROUP).exists()


class DataExport(models.Model):
    """A member's request for a zip of their data, built by the background worker
    (accounts.tasks.data_export_build) and offered by a signed, expiring link."""

    class Status(models.TextChoices):
        PENDING = "pending", "Being prepared"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="data_exports")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    file_name = models.CharField(max_length=255, blank=True)  # in the default storage
    size = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Data export for {self.user} ({self.get_status_display()})"
