import time
from types import SimpleNamespace

import django_ratelimit.core
import pytest
from django.conf import settings
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.cache import cache
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.services import user_set_moderator
from parts.models import Part, PartCategory
from tests.commands import manage_on_copy, migrated_database
from tests.factories import CreationFactory, UserFactory


@pytest.fixture(autouse=True)
def _isolated_site(settings, tmp_path):
    """Each test gets its own media folder, an empty cache and fast password hashing."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        # The hashed-name manifest only exists after collectstatic; tests render without it.
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _steady_rate_windows(monkeypatch):
    """django-ratelimit counts in fixed windows of whole seconds: a test's burst of requests
    that happened to cross a window's end would be counted in two windows and never reach its
    limit. Its clock stands still for the length of a test, so a burst is counted in one."""
    now = time.time()
    monkeypatch.setattr(django_ratelimit.core, "time", SimpleNamespace(time=lambda: now))


@pytest.fixture
def media_files(settings):
    """Every file under MEDIA_ROOT, as paths relative to it."""

    def list_files():
        root = settings.MEDIA_ROOT
        if not root.exists():
            return []
        return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())

    return list_files


@pytest.fixture
def member(db):
    return UserFactory(username="member")


@pytest.fixture
def other_member(db):
    return UserFactory(username="other")


@pytest.fixture
def owner(db):
    return UserFactory(username="owner")


@pytest.fixture
def moderator(db):
    return user_set_moderator(user=UserFactory(username="moderator"), is_moderator=True)


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def creation(owner):
    return CreationFactory(owner=owner, title="Cheese slope roof")


@pytest.fixture(scope="session")
def _migrated_template(tmp_path_factory):
    return migrated_database(tmp_path_factory.mktemp("commands"))


@pytest.fixture
def manage(_migrated_template, tmp_path):
    """Run `python manage.py ...` in its own process, on a freshly migrated database file."""
    return manage_on_copy(_migrated_template, tmp_path)


@pytest.fixture
def catalog(db):
    """Three parts in two categories."""
    bricks = PartCategory.objects.create(id=11, name="Bricks")
    hands = PartCategory.objects.create(id=27, name="Minifig Accessories")
    return {
        "3001": Part.objects.create(part_num="3001", name="Brick 2 x 4", category=bricks),
        "3820": Part.objects.create(part_num="3820", name="Minifig Hand", category=hands),
        "54200": Part.objects.create(part_num="54200", name="Slope 30° 1 x 1 x 2/3"),
    }


@pytest.fixture
def moderator_client(client, moderator):
    client.force_login(moderator)
    return client


def run_action(client, page, action, objects, **extra):
    """Run an admin changelist action on `objects`, as the admin's form posts it."""
    return client.post(
        reverse(page),
        {"action": action, ACTION_CHECKBOX_NAME: [obj.pk for obj in objects], **extra},
    )


def client_for(user) -> APIClient:
    """An API client sending `user`'s token (none for None: anonymous)."""
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def session_queries() -> int:
    """Queries a logged-in request spends reading its session: none when sessions are
    `cached_db` (with Redis, as in CI and production), one from the database otherwise."""
    return 0 if settings.SESSION_ENGINE.endswith("cached_db") else 1
