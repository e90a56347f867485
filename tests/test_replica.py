"""The primary/replica router. With DATABASE_REPLICA_URL set (CI sets it to the primary's own
server), the replica alias is a test mirror of the primary: a second, real connection."""

import pytest
from django.conf import settings
from django.db import connections, transaction
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from creations.models import Creation
from npu_site.db import PinToPrimaryAfterWriteMiddleware, PrimaryReplicaRouter
from tests.factories import CreationFactory, UserFactory

needs_replica = pytest.mark.skipif(
    "replica" not in settings.DATABASES, reason="set DATABASE_REPLICA_URL to test the replica"
)


def in_request(function):
    """Run `function` the way the middleware scopes a request; return what it returned."""
    results = []

    def view(request):
        results.append(function())
        return HttpResponse()

    PinToPrimaryAfterWriteMiddleware(view)(RequestFactory().get("/"))
    return results[0]


def test_reads_go_to_the_replica_and_writes_to_the_primary():
    router = PrimaryReplicaRouter()
    assert in_request(lambda: router.db_for_read(Creation)) == "replica"
    assert in_request(lambda: router.db_for_write(Creation)) == "default"


def test_reads_after_a_write_in_the_same_request_stay_on_the_primary():
    router = PrimaryReplicaRouter()

    def read_write_read():
        before = router.db_for_read(Creation)
        router.db_for_write(Creation)
        return before, router.db_for_read(Creation)

    assert in_request(read_write_read) == ("replica", "default")
    # The next request starts unpinned.
    assert in_request(lambda: router.db_for_read(Creation)) == "replica"


def test_migrations_run_on_the_primary_only():
    router = PrimaryReplicaRouter()
    assert router.allow_migrate("default", "creations") is True
    assert router.allow_migrate("replica", "creations") is False


@needs_replica
@pytest.mark.django_db(transaction=True, databases="__all__")
def test_reads_inside_a_transaction_use_the_primary():
    router = PrimaryReplicaRouter()
    with transaction.atomic():
        assert in_request(lambda: router.db_for_read(Creation)) == "default"


@needs_replica
@pytest.mark.django_db(transaction=True, databases="__all__")
def test_a_page_view_reads_from_the_replica(client):
    creation = CreationFactory(title="Read me")
    with (
        CaptureQueriesContext(connections["replica"]) as replica,
        CaptureQueriesContext(connections["default"]) as primary,
    ):
        response = client.get(creation.get_absolute_url())
    assert response.status_code == 200 and "Read me" in response.content.decode()
    assert any("creations_creation" in query["sql"] for query in replica.captured_queries)
    assert not any("creations_creation" in query["sql"] for query in primary.captured_queries)


@needs_replica
@pytest.mark.django_db(transaction=True, databases="__all__")
def test_a_member_reads_their_own_score_from_the_primary(client):
    creation = CreationFactory()
    member = UserFactory()
    client.force_login(member)
    with CaptureQueriesContext(connections["replica"]) as replica:
        response = client.post(
            f"/creations/{creation.pk}/score/", {"creativity": 4, "uniqueness": 4}, follow=False
        )
    assert response.status_code == 302
    # Nothing about the score was read from the replica in the request that wrote it.
    assert not any("scoring_score" in query["sql"] for query in replica.captured_queries)
    creation.refresh_from_db()
    assert creation.score_count == 1


@needs_replica
@pytest.mark.django_db(transaction=True, databases="__all__")
def test_the_page_after_a_write_reads_from_the_primary(client):
    creation = CreationFactory()
    client.force_login(UserFactory())
    response = client.post(f"/creations/{creation.pk}/score/", {"creativity": 4, "uniqueness": 4})
    assert response.cookies["npu_primary"]["max-age"] == 10
    with CaptureQueriesContext(connections["replica"]) as replica:
        assert client.get(creation.get_absolute_url()).status_code == 200
    assert replica.captured_queries == []


@needs_replica
@pytest.mark.django_db(transaction=True, databases="__all__")
def test_plain_reads_set_no_pin(client):
    creation = CreationFactory()
    response = client.get(creation.get_absolute_url())
    assert "npu_primary" not in response.cookies


def test_health_probes_answer_whatever_the_host_name(client, settings, db):
    settings.ALLOWED_HOSTS = ["npu.example.org"]
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz", HTTP_HOST="10.0.0.7:8000").status_code == 200
    assert client.get("/", HTTP_HOST="10.0.0.7:8000").status_code == 400
