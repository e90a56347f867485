"""How far apart are copies of a picture, and different pictures, in fingerprint bits?

    DJANGO_DEBUG=1 .venv/bin/python benchmarks/hash_separation.py [--pictures 60]

Draws the demo pictures, makes resized, recompressed and slightly cropped copies, runs every
file through the upload pipeline (so the fingerprint is the one a real upload gets) and prints
the distances next to DUPLICATE_MAX_DISTANCE. Prints figures; asserts nothing.
"""

import argparse
import io
import itertools
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "npu_site.settings")

import django  # noqa: E402

django.setup()

from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from PIL import Image  # noqa: E402

from creations.images import image_process  # noqa: E402
from creations.selectors import DUPLICATE_MAX_DISTANCE  # noqa: E402
from demo.pictures import draw_creation  # noqa: E402


def fingerprint(image: Image.Image, fmt: str = "JPEG", **options) -> int:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return image_process(SimpleUploadedFile("x", buffer.getvalue())).fingerprint


def copies(image: Image.Image) -> dict[str, Image.Image]:
    width, height = image.size
    return {
        "half size": image.resize((width // 2, height // 2)),
        "quality 40": image,
        "crop 1% all round": image.crop(
            (width // 100, height // 100, width - width // 100, height - height // 100)
        ),
        "crop 2% top-left": image.crop((width // 50, height // 50, width, height)),
        "crop 4% right": image.crop((0, 0, width - width // 25, height)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pictures", type=int, default=60)
    count = parser.parse_args().pictures
    originals = [Image.open(io.BytesIO(draw_creation(seed))) for seed in range(count)]
    prints = [fingerprint(image, quality=88) for image in originals]
    different = sorted((a ^ b).bit_count() for a, b in itertools.combinations(prints, 2))
    print(f"threshold: {DUPLICATE_MAX_DISTANCE} bits of 128")
    print(
        f"different pictures ({len(different)} pairs): closest {different[:5]}, "
        f"{sum(d <= DUPLICATE_MAX_DISTANCE for d in different)} within the threshold"
    )
    for name in copies(originals[0]):
        distances = sorted(
            (
                fingerprint(copies(image)[name], quality=40 if name == "quality 40" else 85)
                ^ print_
            ).bit_count()
            for image, print_ in zip(originals, prints, strict=True)
        )
        caught = sum(distance <= DUPLICATE_MAX_DISTANCE for distance in distances)
        print(
            f"{name:18}: median {distances[len(distances) // 2]}, max {distances[-1]}; "
            f"{caught}/{len(distances)} within the threshold"
        )


if __name__ == "__main__":
    main()
