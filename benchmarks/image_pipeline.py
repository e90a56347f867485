"""What does one upload cost the image pipeline in time and memory? Prints figures; asserts nothing.

    DJANGO_DEBUG=1 .venv/bin/python benchmarks/image_pipeline.py [--only NAME] \\
        [--images-module PATH]

Every file of the upload corpus (tests/upload_corpus.py), then the worst cases below, goes
through `image_process` in a fresh Python process of its own, so the memory it reports is that
file's alone. "peak MB" is the child's peak resident memory, "added" that peak less what the
child held just before processing (interpreter, Django, Pillow and the upload itself). Seconds
are wall and CPU time of `image_process` alone; "stored" is the picture + its thumbnail.

`--images-module` runs another copy of creations/images.py instead, to compare with an earlier
version: `git show <commit>:creations/images.py > /tmp/images_before.py`.
"""

import argparse
import importlib.util
import io
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import warnings
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "npu_site.settings")

import pillow_heif  # noqa: E402
from PIL import Image  # noqa: E402

from tests import upload_corpus  # noqa: E402
from tests.images import PNG_SIGNATURE, png_chunk, png_header  # noqa: E402

pillow_heif.register_heif_opener()

# 40 megapixels, the upload limit, in the shape of a camera picture.
WIDTH, HEIGHT = 8000, 5000
CHILD_TIMEOUT = 600


def _saved(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _tiled(tile: Image.Image, size: tuple[int, int] = (WIDTH, HEIGHT)) -> Image.Image:
    picture = Image.new(tile.mode, size)
    if tile.mode == "P":
        picture.putpalette(tile.getpalette())
    for top in range(0, size[1], tile.height):
        for left in range(0, size[0], tile.width):
            picture.paste(tile, (left, top))
    return picture


def png_noise() -> bytes:
    """Pure noise: 120 MB as PNG, so refused on its size before any decoding."""
    return _saved(upload_corpus._noise((WIDTH, HEIGHT)), "PNG", compress_level=1)


def png_noise_tiles() -> bytes:
    """A noise tile repeated: small for deflate, noise again once resampled."""
    return _saved(_tiled(upload_corpus._noise((64, 64))), "PNG")


def png_palette_noise_tiles() -> bytes:
    """The same as a 256-colour palette, which has to become RGB before it can be resampled."""
    return _saved(_tiled(upload_corpus._noise((64, 64)).quantize(256)), "PNG")


def png_rgba_noise_tiles() -> bytes:
    return _saved(_tiled(upload_corpus._noise((64, 64), mode="RGBA")), "PNG")


def png_16_bit_grey_noise_tiles() -> bytes:
    """16-bit greyscale (80 MB of samples) written by hand: Pillow saves it slowly."""
    tile_rows = [random.Random(row).randbytes(128) for row in range(64)]
    rows = [b"\0" + tile_row * (WIDTH // 64) for tile_row in tile_rows]
    samples = b"".join(rows[row % 64] for row in range(HEIGHT))
    return (
        PNG_SIGNATURE
        + png_header(WIDTH, HEIGHT, bit_depth=16, color_type=0)
        + png_chunk(b"IDAT", zlib.compress(samples, 6))
        + png_chunk(b"IEND", b"")
    )


def png_1_bit() -> bytes:
    return _saved(_tiled(upload_corpus._noise((64, 64), mode="L").convert("1")), "PNG")


def png_slow_to_deflate() -> bytes:
    """Under 8 MP, so never scaled down: gradients and grain, which zlib's level 9 chews slowly."""
    return _saved(upload_corpus._photo((3000, 2400)), "PNG")


def jpeg_noise() -> bytes:
    """Noise at the best quality that fits under 10 MB."""
    return _saved(upload_corpus._noise((WIDTH, HEIGHT)), "JPEG", quality=25)


def jpeg_photo() -> bytes:
    return _saved(upload_corpus._photo((WIDTH, HEIGHT)), "JPEG", quality=75)


def jpeg_panorama() -> bytes:
    """10000 × 4000: wide enough for the decoder to scale it by half on its way in."""
    return _saved(upload_corpus._photo((10000, 4000)), "JPEG", quality=75)


def heic_photo() -> bytes:
    # x265's fastest preset: its default takes 40 s here for this picture.
    return _saved(
        upload_corpus._photo((WIDTH, HEIGHT)),
        "HEIF",
        quality=30,
        enc_params={"preset": "ultrafast"},
    )


def gif_noise_tiles() -> bytes:
    return _saved(_tiled(upload_corpus._noise((64, 64)).quantize(256)), "GIF")


def webp_144_megapixels() -> bytes:
    """12000 × 12000 of one colour in a few dozen bytes: libwebp sets up its canvas on opening."""
    picture = Image.new("RGB", (12000, 12000), (242, 205, 55))
    return _saved(picture, "WEBP", lossless=True, quality=0, method=0)


WORST_CASES = {
    "40 MP png of noise (120 MB)": png_noise,
    "40 MP png of noise tiles": png_noise_tiles,
    "40 MP palette png of noise tiles": png_palette_noise_tiles,
    "40 MP rgba png of noise tiles": png_rgba_noise_tiles,
    "40 MP 16-bit grey png of noise tiles": png_16_bit_grey_noise_tiles,
    "40 MP 1-bit png": png_1_bit,
    "7 MP png slow to deflate": png_slow_to_deflate,
    "40 MP jpeg of noise, quality 25": jpeg_noise,
    "40 MP jpeg photo": jpeg_photo,
    "40 MP jpeg panorama 10000 x 4000": jpeg_panorama,
    "40 MP heic photo": heic_photo,
    "40 MP gif of noise tiles": gif_noise_tiles,
    "webp claiming 144 MP": webp_144_megapixels,
}


def _megapixels(content: bytes) -> str:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            width, height = Image.open(io.BytesIO(content)).size
    except Exception:
        return "-"
    return f"{width * height / 1_000_000:.1f}"


def _memory_mb(field: str) -> float:
    """VmRSS (now) or VmHWM (peak) from Linux's /proc, else the peak from getrusage.

    On Linux getrusage's peak survives fork and exec, so a child would report the parent's
    peak from making a 40-megapixel picture; VmHWM starts afresh with the child's own memory.
    """
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes there, kB
    line = next(line for line in status.splitlines() if line.startswith(field + ":"))
    return int(line.split()[1]) / 1024


def child(path: str, images_module: str | None) -> None:
    """Process one file and print its figures as JSON: the parent's one measurement."""
    import gc

    import django

    django.setup()
    from django.core.exceptions import ValidationError
    from django.core.files.uploadedfile import SimpleUploadedFile

    if images_module:
        spec = importlib.util.spec_from_file_location("images_under_test", images_module)
        images = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(images)
    else:
        from creations import images

    upload = SimpleUploadedFile("upload", Path(path).read_bytes())
    gc.collect()
    before = _memory_mb("VmRSS")
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        processed = images.image_process(upload)
    except ValidationError as error:
        outcome, stored = f"refused: {error.error_list[0].code}", []
    else:
        stored = [len(processed.content), len(processed.thumbnail)]
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if stored:
        stored_format = Image.open(io.BytesIO(processed.content)).format
        outcome = f"{stored_format} {processed.width}x{processed.height}"
    result = {
        "outcome": outcome,
        "wall": wall,
        "cpu": cpu,
        "peak": _memory_mb("VmHWM"),
        "before": before,
        "stored": stored,
    }
    print(json.dumps(result))


def measure(content: bytes, images_module: str | None) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".upload") as file:
        file.write(content)
        file.flush()
        command = [sys.executable, __file__, "--child", file.name]
        if images_module:
            command += ["--images-module", images_module]
        try:
            finished = subprocess.run(
                command, capture_output=True, text=True, timeout=CHILD_TIMEOUT, check=False
            )
        except subprocess.TimeoutExpired:
            return {"failed": f"over {CHILD_TIMEOUT} s"}
    if finished.returncode != 0:
        last_line = (finished.stderr.strip().splitlines() or ["?"])[-1]
        return {"failed": f"exit {finished.returncode}: {last_line[:60]}"}
    return json.loads(finished.stdout.strip().splitlines()[-1])


WORST_FIGURES = (
    ("slowest", lambda result: result["wall"], "{:.2f} s wall"),
    ("most CPU", lambda result: result["cpu"], "{:.2f} s CPU"),
    ("highest peak", lambda result: result["peak"], "{:.0f} MB"),
    ("most memory added", lambda result: result["peak"] - result["before"], "{:.0f} MB"),
    ("largest stored", lambda result: sum(result["stored"]), "{:,} bytes"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images-module", help="a copy of creations/images.py to run instead")
    parser.add_argument("--only", help="run only the cases whose name contains this")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        child(arguments.child, arguments.images_module)
        return

    cases = {case.name: case.make for case in upload_corpus.CORPUS} | WORST_CASES
    if arguments.only:
        cases = {name: make for name, make in cases.items() if arguments.only in name}
    print(f"Pipeline: {arguments.images_module or 'creations/images.py'}")
    header = (
        f"{'case':38} {'upload':>11} {'MP':>5}  {'outcome':27} {'wall s':>6} {'CPU s':>6} "
        f"{'peak MB':>7} {'added':>6}  stored"
    )
    print(header)
    print("-" * len(header))
    rows = []
    for name, make in cases.items():
        content = make()
        result = measure(content, arguments.images_module)
        upload_size = f"{len(content):,}"
        if "failed" in result:
            print(f"{name:38} {upload_size:>11} {_megapixels(content):>5}  {result['failed']}")
            continue
        rows.append((name, result))
        stored = " + ".join(f"{size:,}" for size in result["stored"]) or "-"
        print(
            f"{name:38} {upload_size:>11} {_megapixels(content):>5}  {result['outcome']:27} "
            f"{result['wall']:6.2f} {result['cpu']:6.2f} {result['peak']:7.0f} "
            f"{result['peak'] - result['before']:6.0f}  {stored}",
            flush=True,
        )

    print("-" * len(header))
    print(
        f"{len(rows)} files: {sum(r['wall'] for _, r in rows):.1f} s wall, "
        f"{sum(r['cpu'] for _, r in rows):.1f} s CPU, "
        f"{sum(sum(r['stored']) for _, r in rows):,} bytes stored"
    )
    for label, figure, shown in WORST_FIGURES:
        name, result = max(rows, key=lambda row, figure=figure: figure(row[1]))
        print(f"{label}: {shown.format(figure(result))} ({name})")


if __name__ == "__main__":
    main()
