"""The SQL that NPU runs for given requests, captured in-process: what `make bench` times
directly in PostgreSQL and EXPLAINs (scripts/bench.py runs this with the benchmark's own
environment: its database, production settings, its Redis).

    .venv/bin/python benchmarks/explain.py requests.json > queries.json

The input is a JSON list of `{"name", "path", "headers"}` (GET requests, anonymous unless
`headers`, optional, carries a member's API token or session cookie). Each path is
requested twice through Django's test client and the second request's statements are
recorded, so caches the first one filled (the site-wide mean rating, the content types) are
as warm as they are on a running server. The output maps each name to
`{"status", "queries": [sql, ...]}`, every statement with its parameters in place.
"""

import contextlib
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "npu_site.settings")

import django  # noqa: E402

django.setup()

from django.db import connections  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402


def captured_queries(
    client: Client, path: str, headers: dict | None = None
) -> tuple[int, list[str]]:
    """The status of GET `path` and every statement it ran, on any database alias."""
    client.get(path, headers=headers)  # warms what a running server has warm
    with contextlib.ExitStack() as stack:
        contexts = [
            stack.enter_context(CaptureQueriesContext(connection))
            for connection in connections.all()
        ]
        response = client.get(path, headers=headers)
    queries = [query["sql"] for context in contexts for query in context.captured_queries]
    return response.status_code, queries


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    requests = json.loads(Path(argv[0]).read_text())
    # The host the benchmark's production settings allow.
    host = (os.environ.get("DJANGO_ALLOWED_HOSTS") or "127.0.0.1").split(",")[0].strip()
    client = Client(HTTP_HOST=host)
    found = {}
    for request in requests:
        status, queries = captured_queries(client, request["path"], request.get("headers"))
        found[request["name"]] = {"status": status, "queries": queries}
    json.dump(found, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
