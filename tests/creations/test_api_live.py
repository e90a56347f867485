"""The API over real HTTP against a live server: concurrent writers and Schemathesis."""

import json
import re
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path
from statistics import mean

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token

from creations.models import Creation
from tests.factories import CreationFactory, ScoreFactory, UserFactory

# "__all__": with a read replica configured, the live server reads through it too.
pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")
SCHEMATHESIS = Path(sys.executable).with_name("st")
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    ]
)


def put_json(url: str, token: str, body: dict) -> int:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="PUT",
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")
def test_twenty_members_score_at_once_through_the_api(live_server, transactional_db, settings):
    settings.RATELIMIT_ENABLE = False
    creation = CreationFactory()
    members = UserFactory.create_batch(20)
    tokens = [Token.objects.create(user=member).key for member in members]
    values = [(1 + index % 5, 1 + (index * 3) % 5) for index in range(20)]
    url = f"{live_server.url}/api/v1/creations/{creation.pk}/my-score/"
    barrier = threading.Barrier(20)
    statuses = []

    def score(token, creativity, uniqueness):
        barrier.wait()
        statuses.append(put_json(url, token, {"creativity": creativity, "uniqueness": uniqueness}))

    threads = [
        threading.Thread(target=score, args=(token, *value))
        for token, value in zip(tokens, values, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [201] * 20
    creation = Creation.objects.get(pk=creation.pk)
    creativity = mean(value[0] for value in values)
    uniqueness = mean(value[1] for value in values)
    assert creation.score_count == 20
    assert (creation.creativity_avg, creation.uniqueness_avg) == (creativity, uniqueness)
    assert creation.rating == (creativity + uniqueness) / 2


def test_schemathesis_finds_no_server_error_or_schema_mismatch(
    live_server, transactional_db, settings, tmp_path
):
    """Generated requests against every operation, as a member with a token."""
    settings.RATELIMIT_ENABLE = False
    member = UserFactory(username="fuzzer")
    owner = UserFactory(username="owner")
    for creation in CreationFactory.create_batch(3, owner=owner, tags="castle, technic pin"):
        ScoreFactory(creation=creation)
    CreationFactory(owner=owner, status=Creation.Status.HIDDEN)
    CreationFactory(owner=member, tags="space")
    token = Token.objects.create(user=member).key

    completed = subprocess.run(
        [
            str(SCHEMATHESIS),
            "run",
            f"{live_server.url}/api/v1/schema/",
            "--header",
            f"Authorization: Token {token}",
            "--checks",
            CHECKS,
            "--max-examples",
            "15",
            "--max-time",
            "45",
            "--seed",
            "20261126",
            "--workers",
            "1",
            "--request-timeout",
            "10",
            "--no-color",
            "--report-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )

    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-6000:]
    generated = int(re.search(r"(\d+) generated", output).group(1))
    print(f"Schemathesis: {generated} generated test cases")
    # A floor, not a target: the run is time-boxed, so a busy machine generates fewer.
    assert generated >= 200, output[-3000:]
