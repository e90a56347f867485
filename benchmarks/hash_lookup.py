"""How fast is the look-alike lookup with many creations? Prints figures; asserts nothing.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/npu_bench DJANGO_DEBUG=1 \\
        .venv/bin/python benchmarks/hash_lookup.py --creations 100000

It fills the given database (migrating it first) with creations carrying random 128-bit
picture hashes and their bands, then times `similar_creations` for fresh random hashes and for
near copies of stored ones. Use a scratch database: the creations it adds are not removed.
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "npu_site.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from accounts.models import User  # noqa: E402
from creations.models import Creation, ImageHashBand  # noqa: E402
from creations.selectors import hash_bands, similar_creations  # noqa: E402


def fill(count: int, rng: random.Random) -> list[int]:
    owner, _ = User.objects.get_or_create(
        username="bench", defaults={"email": "bench@example.invalid"}
    )
    existing = Creation.objects.filter(owner=owner).count()
    hashes = []
    batch = 5000
    for start in range(existing, count, batch):
        size = min(batch, count - start)
        with transaction.atomic():
            creations = Creation.objects.bulk_create(
                Creation(
                    owner=owner,
                    title=f"Bench {start + n}",
                    image=f"bench/{start + n}.jpg",
                    thumbnail=f"bench/{start + n}.thumb.webp",
                    width=960,
                    height=720,
                    image_hash=f"{rng.getrandbits(128):032x}",
                )
                for n in range(size)
            )
            ImageHashBand.objects.bulk_create(
                ImageHashBand(creation=creation, position=position, value=value)
                for creation in creations
                for position, value in hash_bands(int(creation.image_hash, 16))
            )
        print(f"  {start + size} creations", flush=True)
    hashes = [
        int(h, 16)
        for h in Creation.objects.filter(owner=owner).values_list("image_hash", flat=True)[:200]
    ]
    return hashes


def near_copy(fingerprint: int, rng: random.Random, flips: int) -> int:
    for bit in rng.sample(range(128), flips):
        fingerprint ^= 1 << bit
    return fingerprint


def timed(fingerprints: list[int]) -> tuple[list[float], int]:
    durations, found = [], 0
    for fingerprint in fingerprints:
        started = time.perf_counter()
        found += len(similar_creations(fingerprint=fingerprint))
        durations.append((time.perf_counter() - started) * 1000)
    return durations, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creations", type=int, default=100_000)
    parser.add_argument("--lookups", type=int, default=200)
    arguments = parser.parse_args()
    call_command("migrate", verbosity=0)
    print(f"Filling to {arguments.creations} creations on {connection.vendor}…")
    stored = fill(arguments.creations, random.Random(20261126))
    rng = random.Random()  # lookups: fresh values every run, unrelated to the stored hashes
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE creations_imagehashband; ANALYZE creations_creation")
    total = Creation.objects.count()
    print(f"{total} creations, {ImageHashBand.objects.count()} hash bands")
    for label, fingerprints in (
        ("random pictures (no match)", [rng.getrandbits(128) for _ in range(arguments.lookups)]),
        (
            "copies, 10 bits changed",
            [near_copy(rng.choice(stored), rng, 10) for _ in range(arguments.lookups)],
        ),
    ):
        durations, found = timed(fingerprints)
        durations.sort()
        print(
            f"{label}: median {statistics.median(durations):.1f} ms, "
            f"p95 {durations[int(len(durations) * 0.95)]:.1f} ms, "
            f"max {durations[-1]:.1f} ms; {found} matches in {len(fingerprints)} lookups"
        )


if __name__ == "__main__":
    main()
