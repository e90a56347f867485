import factory

from community.models import Comment
from community.services.comments import comment_create
from tests.factories import CreationFactory, UserFactory


class CommentFactory(factory.django.DjangoModelFactory):
    """Comments made through the real service (counts and events included)."""

    class Meta:
        model = Comment

    user = factory.SubFactory(UserFactory)
    creation = factory.SubFactory(CreationFactory)
    body = factory.Sequence(lambda n: f"How is part {n} attached?")
    parent = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return comment_create(**kwargs)
