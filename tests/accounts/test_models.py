import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import MODERATORS_GROUP, User
from accounts.services import user_set_moderator
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_email_is_unique_whatever_its_case():
    UserFactory(email="Brick.Fan@Example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="copycat", email="brick.fan@example.COM")


def test_model_validation_reports_a_taken_email_clearly():
    UserFactory(email="brick.fan@example.com")
    duplicate = User(username="copycat", email="BRICK.FAN@example.com")
    duplicate.set_password("long-enough-password")
    with pytest.raises(ValidationError) as excinfo:
        duplicate.full_clean()
    assert "An account with this e-mail address already exists." in str(excinfo.value)


def test_public_name_prefers_the_display_name():
    assert UserFactory(username="bob", display_name="").public_name == "bob"
    assert UserFactory(username="ann", display_name="Ann B.").public_name == "Ann B."


def test_moderators_group_has_exactly_the_moderation_permissions():
    group = Group.objects.get(name=MODERATORS_GROUP)
    granted = {
        f"{app_label}.{codename}"
        for app_label, codename in group.permissions.values_list(
            "content_type__app_label", "codename"
        )
    }
    assert granted == {
        "creations.view_creation",
        "creations.change_creation",
        "moderation.view_report",
        "moderation.change_report",
        "moderation.view_member",
        "moderation.restrict_member",
        "moderation.trust_member",
        "moderation.view_moderationaction",
        "moderation.view_appeal",
        "moderation.change_appeal",
        "scoring.view_score",
        "scoring.delete_score",
        "scoring.void_score",
        "scoring.view_scorevoiding",
        "taggit.view_tag",
        "taggit.change_tag",
        "taggit.delete_tag",
        "community.view_comment",
        "community.change_comment",
        "community.delete_comment",
        "community.view_commentreport",
        "community.change_commentreport",
    }


def test_moderator_has_no_user_management_permission(moderator):
    assert moderator.has_perm("creations.change_creation")
    for codename in ("view_user", "add_user", "change_user", "delete_user", "change_group"):
        app_label = "auth" if codename.endswith("group") else "accounts"
        assert not moderator.has_perm(f"{app_label}.{codename}")
    assert not moderator.has_perm("creations.delete_creation")
    assert not moderator.has_perm("scoring.change_score")


def test_is_moderator_follows_the_group_and_superuser_flag(member, superuser):
    assert member.is_moderator is False
    assert superuser.is_moderator is True
    user_set_moderator(user=member, is_moderator=True)
    member = User.objects.get(pk=member.pk)
    assert member.is_moderator is True and member.is_staff is True
    user_set_moderator(user=member, is_moderator=False)
    member = User.objects.get(pk=member.pk)
    assert member.is_moderator is False and member.is_staff is False


def test_inactive_moderator_is_not_a_moderator(moderator):
    moderator.is_active = False
    moderator.save()
    assert User.objects.get(pk=moderator.pk).is_moderator is False


@pytest.mark.parametrize(
    "field, value",
    [
        ("display_name", "Evil\u202egnp.exe"),  # RIGHT-TO-LEFT OVERRIDE
        ("display_name", "two\nlines"),
        ("display_name", "nul\x00"),
        ("bio", "isolate \u2066here"),
        ("bio", "bell \x07"),
    ],
)
def test_display_name_and_bio_refuse_control_and_bidi_characters(member, field, value):
    setattr(member, field, value)
    with pytest.raises(ValidationError) as excinfo:
        member.full_clean(exclude=["password"])
    assert set(excinfo.value.message_dict) == {field}


def test_bio_keeps_line_breaks_and_emoji_joiners(member):
    member.bio = "Hinges\r\nand clips\tand 👩\u200d🔧"
    member.display_name = "Brick 👩\u200d🔧"
    member.full_clean(exclude=["password"])


@pytest.mark.parametrize("username", ["\u0430xel", "p\u0430ypal", "\u03bfmega_fan", "b\u0456lly"])
def test_username_mixing_scripts_is_refused(username):
    user = User(username=username, email="x@example.com")
    with pytest.raises(ValidationError) as excinfo:
        user.full_clean(exclude=["password"])
    assert "one alphabet" in str(excinfo.value.message_dict["username"])


@pytest.mark.parametrize(
    "username",
    [
        "axel",
        "Axel_99",
        "\u0430\u043b\u0435\u043a\u0441",
        "\u03c9\u03bc\u03ad\u03b3\u03b1",
        "\u7530\u4e2d\u305f\u308d\u3046",
        "\uae40\ucca0\uc218",
        "mike.b@home+1",
        "\u017fam",
    ],
)
def test_username_in_one_script_is_accepted(username):
    User(username=username, email="x@example.com").full_clean(exclude=["password"])
