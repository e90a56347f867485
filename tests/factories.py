import factory
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import User
from creations.models import Creation
from creations.services import creation_create
from moderation.models import Report
from moderation.services import report_create
from scoring.models import Score
from scoring.services import score_upsert
from tests.images import image_bytes

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"builder{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    display_name = factory.LazyAttribute(lambda user: user.username.title())
    password = factory.django.Password(PASSWORD)
    # Members made for tests upload straight to the gallery; tests of the review queue ask
    # for trusted=False.
    trusted = True


class CreationFactory(factory.django.DjangoModelFactory):
    """Creations made through the real service, with a real (small) picture."""

    class Meta:
        model = Creation

    owner = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Creation {n}")
    description = "A minifig hand holds the lamp."
    tags = ("technic pin",)
    status = Creation.Status.PUBLISHED
    image = factory.LazyFunction(
        lambda: SimpleUploadedFile("photo.png", image_bytes("PNG"), content_type="image/png")
    )

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return creation_create(**kwargs)


class ScoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Score

    user = factory.SubFactory(UserFactory)
    creation = factory.SubFactory(CreationFactory)
    creativity = 4
    uniqueness = 3

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        score, _ = score_upsert(**kwargs)
        return score


class ReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Report

    reporter = factory.SubFactory(UserFactory)
    creation = factory.SubFactory(CreationFactory)
    reason = Report.Reason.SPAM
    note = ""

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return report_create(**kwargs)
