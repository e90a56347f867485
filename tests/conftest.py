import pytest
from django.core.cache import cache

from accounts.services import user_set_moderator
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
