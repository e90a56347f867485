import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from taggit.models import Tag

from accounts.models import User
from community.models import Comment, Favourite, Follow, Notification
from creations.models import Creation
from demo.management.commands.seed_demo import DEMO_PASSWORD, MEMBERS, Command
from moderation.models import Report
from scoring.models import Score

pytestmark = pytest.mark.django_db


def seed_demo(**options):
    # The demo app is not installed under production settings (which the suite runs with), so
    # the command is called as an object rather than by name.
    call_command(Command(), **options)


def snapshot():
    return {
        "users": sorted(User.objects.values_list("username", flat=True)),
        "creations": sorted(Creation.objects.values_list("title", "image", "rating")),
        "scores": sorted(
            Score.objects.values_list("user__username", "creation__title", "creativity")
        ),
        "tags": sorted(Tag.objects.values_list("name", flat=True)),
        "reports": Report.objects.count(),
        "comments": sorted(
            Comment.objects.values_list("user__username", "creation__title", "parent_id", "body"),
            key=str,
        ),
        "favourites": sorted(Favourite.objects.values_list("user__username", "creation__title")),
        "follows": sorted(
            Follow.objects.values_list(
                "follower__username", "followed_user__username", "tag__name"
            ),
            key=str,
        ),
        "notifications": Notification.objects.count(),
    }


def test_seed_demo_builds_a_living_site_and_is_idempotent(capsys, media_files):
    seed_demo(force=True)
    first = snapshot()
    files = media_files()
    output = capsys.readouterr().out

    assert len(first["users"]) == len(MEMBERS) == 12
    assert len(first["creations"]) == 60
    assert len(files) == 120  # a picture and a thumbnail each
    assert len(first["scores"]) > 150
    assert {"technic pin", "cheese slope", "minifig hand", "castle", "space"} <= set(first["tags"])
    assert Creation.objects.filter(status=Creation.Status.HIDDEN).exists()
    assert Creation.objects.exclude(rating=None).count() > 40
    assert len({rating for _, _, rating in first["creations"]}) > 10  # a spread, not one value
    assert first["reports"] == 1
    # A few conversations with replies and mentions, saves and follows, and the notifications
    # they made.
    assert len(first["comments"]) == 10
    assert sum(1 for _, _, parent, _ in first["comments"] if parent) == 5
    assert any("@bea" in body for _, _, _, body in first["comments"])
    assert len(first["favourites"]) == 10 and len(first["follows"]) == 10
    assert Notification.objects.filter(kind="mention", recipient__username="hana").exists()
    assert Notification.objects.filter(kind="follower").count() == 5
    assert all(c.comment_count == c.comments.count() for c in Creation.objects.all())
    # Every demo creation features catalog parts, and no two demo pictures look alike.
    assert Creation.parts.through.objects.count() >= 60
    assert Creation.possible_duplicates.through.objects.count() == 0
    moderator = User.objects.get(username=MEMBERS[0][0])
    assert moderator.is_moderator and moderator.check_password(DEMO_PASSWORD)
    assert "creations: 60/60" in output and DEMO_PASSWORD in output

    seed_demo(force=True)

    assert snapshot() == first
    assert media_files() == files
    assert "0 new creation(s)" in capsys.readouterr().out


def test_seed_demo_refuses_production_mode_without_force():
    with pytest.raises(CommandError, match="DJANGO_DEBUG off"):
        seed_demo()
    assert not User.objects.exists()


def test_production_settings_do_not_install_the_demo_app(manage):
    assert "demo" not in settings.INSTALLED_APPS
    refused = manage("manage.py", "seed_demo")
    assert refused.returncode != 0 and "Unknown command: 'seed_demo'" in refused.stderr


def test_seed_demo_from_the_command_line_in_debug_mode(manage):
    seeded = manage("manage.py", "seed_demo", DJANGO_DEBUG="1")
    assert seeded.returncode == 0, seeded.stderr
    assert "creations: 60/60" in seeded.stdout
    assert manage.sql("SELECT COUNT(*) FROM creations_creation") == [(60,)]
    assert manage.sql("SELECT COUNT(*) FROM moderation_report") == [(1,)]
