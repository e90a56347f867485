import pytest
from django.contrib.auth.models import AnonymousUser

from creations.models import Creation
from creations.selectors import creation_for_detail, gallery_creations
from tests.factories import CreationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def hidden(owner):
    return CreationFactory(owner=owner, title="Secret", status=Creation.Status.HIDDEN)


@pytest.fixture
def published(owner):
    return CreationFactory(owner=owner, title="Public")


def visible_titles(user):
    return set(Creation.objects.visible_to(user).values_list("title", flat=True))


def test_anonymous_visitors_see_only_published_creations(hidden, published):
    assert visible_titles(AnonymousUser()) == {"Public"}


def test_other_members_see_only_published_creations(hidden, published, member):
    assert visible_titles(member) == {"Public"}


def test_owner_sees_own_hidden_creation(hidden, published, owner):
    assert visible_titles(owner) == {"Public", "Secret"}


def test_moderator_sees_hidden_creations(hidden, published, moderator):
    assert visible_titles(moderator) == {"Public", "Secret"}


def test_hidden_creation_does_not_exist_for_others(hidden, member):
    with pytest.raises(Creation.DoesNotExist):
        creation_for_detail(viewer=member, pk=hidden.pk)
    assert creation_for_detail(viewer=hidden.owner, pk=hidden.pk) == hidden


def test_gallery_lists_only_published_creations_even_for_the_owner(hidden, published, owner):
    assert list(gallery_creations()) == [published]
    assert list(gallery_creations(owner=owner)) == [published]


def test_gallery_is_newest_first(owner):
    first, second, third = CreationFactory.create_batch(3, owner=owner)
    assert list(gallery_creations()) == [third, second, first]
