"""The image pipeline: every upload path (pages, API, demo data) goes through here.

`image_process` decides the format by content, checks the limits, scales the picture down to
NPU_IMAGE_MAX_SIDE, applies the EXIF orientation and re-encodes the picture and its thumbnail in
memory, so a rejected file never reaches storage. Only pixels survive (colours converted to sRGB
first), and the stored picture is never larger than the upload limit: re-encoded lossy and
smaller if need be, or refused.
`image_store` writes both files under random names and removes the first if the second fails.

Decoding costs what the upload's pixels cost (only a JPEG can be decoded at a reduced scale);
everything after it is bounded by the stored size instead: the picture is scaled down as soon
as it is decoded, before any conversion or copy, and the encoders' effort is kept low.
benchmarks/image_pipeline.py measures the time and memory of each kind of upload.
"""

import io
import logging
import struct
import uuid
import warnings
from dataclasses import dataclass

import pillow_heif
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from PIL import ExifTags, Image, ImageCms

logger = logging.getLogger(__name__)

pillow_heif.register_heif_opener()

# Pillow format name -> (stored format, extension). Photos stay JPEG; lossless sources stay PNG.
ACCEPTED_FORMATS = {
    "JPEG": ("JPEG", "jpg"),
    "MPO": ("JPEG", "jpg"),  # a camera JPEG with extra frames; Pillow opens it as JPEG
    "HEIF": ("JPEG", "jpg"),
    "PNG": ("PNG", "png"),
    "GIF": ("PNG", "png"),
    "WEBP": ("WEBP", "webp"),
}
OPENERS = ["JPEG", "HEIF", "PNG", "GIF", "WEBP"]
ACCEPT_ATTRIBUTE = "image/jpeg,image/png,image/webp,image/gif,image/heic,image/heif,.heic,.heif"
THUMBNAIL_FORMAT = ("WEBP", "webp")

MESSAGE_NOT_AN_IMAGE = (
    "This file is not an image we accept. Upload a JPEG, PNG, WebP, GIF or HEIC picture."
)
MESSAGE_DAMAGED = "This image is damaged or incomplete, so it cannot be read. Try another copy."
MESSAGE_EMPTY = "The file is empty."
MESSAGE_TOO_DETAILED = (
    "This image is too detailed to store within %(limit)s, even re-encoded at a lower quality. "
    "Upload a smaller or more compressed copy."
)

# How each accepted format starts: a file that starts like one but does not open is damaged,
# not of the wrong kind, and the message should say so.
SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a")
HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}

# Quality of the re-encoded pictures, and of the fallback when a re-encoded picture would be
# over the upload limit (a lossless source re-encoded can outgrow it: a WebP of repeated tiles,
# a GIF whose palette becomes RGB, a low-quality JPEG raised to ours).
JPEG_QUALITY = 88
WEBP_QUALITY = 85
FALLBACK_QUALITY = 70
# libwebp's effort, 0-6, and the upload waits for it. On 40 detailed megapixels method 4
# (Pillow's default) took 24 s here and method 2 took 4 s, for files of about the same size;
# on an ordinary photo method 2 is twice as fast for a file up to 10 % larger.
WEBP_METHOD = 2
# zlib's effort for stored PNGs, 0-9. optimize=True (level 9) follows up to 4,096 earlier
# matches for each byte: on 4096 × 4096 of gradients and grain it took 23 s here and on a
# render with grain 43 s, where level 4 (at most 16 earlier matches) took 1.6 s and 1.2 s for
# files 2 % and 15 % larger, and flat pictures came out the same size. Levels 1-3 were up to
# twice as fast again, but made flat pictures three times larger.
PNG_COMPRESS_LEVEL = 4

# Scaling down: Lanczos, after shrinking by whole factors with a cheap box filter while at
# least this much reduction is left for Lanczos. Pillow documents 3.0 as indistinguishable
# from Lanczos all the way; the thumbnail keeps 2.0, the Image.thumbnail default it had.
REDUCING_GAP = 3.0
THUMBNAIL_REDUCING_GAP = 2.0

# What ImageOps.exif_transpose does for each EXIF orientation, applied here to the scaled copy.
ORIENTATION_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


@dataclass(frozen=True)
class ProcessedImage:
    """A re-encoded picture and its thumbnail, still in memory."""

    content: bytes
    extension: str
    thumbnail: bytes
    thumbnail_extension: str
    width: int
    height: int
    fingerprint: int  # image_fingerprint() of the picture


def _reject(message: str, code: str, **params) -> ValidationError:
    return ValidationError(message, code=code, params=params or None)


def _read_upload(upload) -> bytes:
    max_bytes = settings.NPU_IMAGE_MAX_BYTES
    too_large = _reject(
        "The file is too large (%(size)s); the limit is %(limit)s.",
        "file_too_large",
        size=filesizeformat(getattr(upload, "size", None) or max_bytes + 1),
        limit=filesizeformat(max_bytes),
    )
    if getattr(upload, "size", None) is not None and upload.size > max_bytes:
        raise too_large
    if hasattr(upload, "seek"):
        upload.seek(0)
    # Read one byte past the limit so a file that lied about its size is still caught.
    content = upload.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise too_large
    if not content:
        raise _reject(MESSAGE_EMPTY, "empty")
    return content


def _open(content: bytes) -> Image.Image:
    max_pixels = settings.NPU_IMAGE_MAX_PIXELS
    try:
        with warnings.catch_warnings():
            # Pillow only warns between MAX_IMAGE_PIXELS and twice that; make it an error.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(content), formats=OPENERS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise _reject(
            "This image is too large in pixels; the limit is %(limit)d megapixels.",
            "too_many_pixels",
            limit=max_pixels // 1_000_000,
        ) from error
    except Image.UnidentifiedImageError as error:
        if _looks_accepted(content):
            raise _reject(MESSAGE_DAMAGED, "damaged") from error
        raise _reject(MESSAGE_NOT_AN_IMAGE, "not_an_image") from error
    except (OSError, SyntaxError, ValueError, struct.error, EOFError) as error:
        raise _reject(MESSAGE_DAMAGED, "damaged") from error

    width, height = image.size
    # Checked on the header, before any pixel is decoded: this is the decompression-bomb guard.
    if width * height > max_pixels:
        raise _reject(
            "This image is %(megapixels).1f megapixels; the limit is %(limit)d.",
            "too_many_pixels",
            megapixels=width * height / 1_000_000,
            limit=max_pixels // 1_000_000,
        )
    if width < 1 or height < 1:
        raise _reject(MESSAGE_DAMAGED, "damaged")
    return image


def _looks_accepted(content: bytes) -> bool:
    return (
        content.startswith(SIGNATURES)
        or (content[:4] == b"RIFF" and content[8:12] == b"WEBP")
        or (content[4:8] == b"ftyp" and content[8:12] in HEIF_BRANDS)
    )


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in {"RGBA", "LA", "PA"} or "transparency" in image.info


def _to_8_bit(image: Image.Image) -> Image.Image:
    """Bring every decoded mode to L, LA, RGB, RGBA or CMYK, keeping the embedded profile."""
    if image.mode.startswith("I"):
        # 16-bit greyscale PNG: Pillow's convert("L") clips 0-65535 to 0-255 (nearly white),
        # so scale instead. Its rare single-value transparency goes with the rest of `info`.
        image.info.pop("transparency", None)
        return image.convert("I").point(lambda value: value / 257).convert("L")
    alpha = _has_alpha(image)
    if image.mode in {"LA", "RGBA", "CMYK"} or (image.mode in {"L", "RGB"} and not alpha):
        return image
    # "1", "P", "PA", or L and RGB with a transparent colour (tRNS) that alpha must keep.
    grey = image.mode in {"1", "L"}
    if alpha:
        return image.convert("LA" if grey else "RGBA")
    return image.convert("L" if grey else "RGB")


def _fitted_size(size: tuple[int, int], side: int) -> tuple[int, int] | None:
    """The size within a `side` square, proportions kept; None when it fits (never enlarged)."""
    width, height = size
    if width <= side and height <= side:
        return None
    if width >= height:
        return side, max(1, round(height * side / width))
    return max(1, round(width * side / height)), side


def _decoded_within(image: Image.Image, side: int) -> Image.Image:
    """Decode the picture and scale it to fit a `side` square before anything else touches it.

    A JPEG is decoded straight at 1/2, 1/4 or 1/8 scale when that still leaves at least the
    target size, so its full-size pixels never exist. Other formats decode in full, but only
    that one full-size picture lives, and only until this returns: every later conversion,
    rotation and copy works on the scaled one.
    """
    target = _fitted_size(image.size, side)
    box = None
    if target and image.format in {"JPEG", "MPO"}:
        # Pillow picks the largest reduction that keeps the picture at least `target`, and
        # returns the area of the scaled picture the original covers (its last row and
        # column may be partial), so the resize below stays exact.
        drafted = image.draft(image.mode, target)
        box = drafted[1] if drafted else None
    image.load()
    if target is None:
        return image
    if not image.mode.startswith("I"):
        # Pillow resamples palette and 1-bit pictures nearest-neighbour, and a transparent
        # colour key would blur into its neighbours; as L, LA, RGB or RGBA they scale well.
        # 16-bit greyscale scales as it is and is brought to 8 bits once small.
        image = _to_8_bit(image)
    # Pillow cannot reduce 16-bit greyscale by whole factors; Lanczos alone scales it.
    gap = None if image.mode.startswith("I;16") else REDUCING_GAP
    return image.resize(target, Image.Resampling.LANCZOS, box=box, reducing_gap=gap)


def _scaled_down(image: Image.Image, side: int, reducing_gap: float) -> Image.Image:
    size = _fitted_size(image.size, side)
    if size is None:
        return image
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=reducing_gap)


def _to_srgb(image: Image.Image) -> Image.Image:
    """Convert colours to sRGB so dropping the embedded ICC profile keeps them right."""
    icc = image.info.get("icc_profile")
    if not icc:
        return image
    srgb = ImageCms.createProfile("sRGB")
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if image.mode in {"L", "LA"}:
            # littleCMS maps a grey profile to RGB (it has no grey sRGB); the result is neutral,
            # so it goes back to one channel. Its alpha would be lost, so it is put back.
            rgb = ImageCms.profileToProfile(image.convert("L"), source, srgb, outputMode="RGB")
            if image.mode == "L":
                return rgb.convert("L")
            return Image.merge("LA", (rgb.convert("L"), image.getchannel("A")))
        output_mode = "RGBA" if image.mode == "RGBA" else "RGB"
        return ImageCms.profileToProfile(image, source, srgb, outputMode=output_mode)
    except (ImageCms.PyCMSError, OSError, ValueError):
        logger.info("Could not apply an embedded colour profile; keeping the raw colours.")
        return image


def _pixels_only(image: Image.Image) -> Image.Image:
    """The picture in sRGB as L, RGB or RGBA, with nothing else from the upload.

    Pillow's encoders write some of `info` back unasked (a JPEG comment, a PNG's ICC profile),
    so it is emptied: no comment, EXIF, XMP, profile, text or GIF extension can survive.
    """
    image = _to_srgb(_to_8_bit(image))
    if _has_alpha(image):
        image = image.convert("RGBA")
    elif image.mode not in {"RGB", "L"}:
        image = image.convert("RGB")
    image.info = {}
    return image


def _encode(image: Image.Image, fmt: str, quality: int | None = None) -> bytes:
    """Re-encode with only the options given here: _pixels_only() has emptied `info`."""
    buffer = io.BytesIO()
    if fmt == "JPEG":
        rgb = image if image.mode == "RGB" else image.convert("RGB")
        rgb.save(buffer, "JPEG", quality=quality or JPEG_QUALITY, optimize=True, progressive=True)
    elif fmt == "PNG":
        image.save(buffer, "PNG", compress_level=PNG_COMPRESS_LEVEL)
    else:
        image.save(buffer, "WEBP", quality=quality or WEBP_QUALITY, method=WEBP_METHOD)
    return buffer.getvalue()


# The largest side each lossy format can hold.
JPEG_MAX_SIDE = 65500
WEBP_MAX_SIDE = 16383


def _encode_within_limit(image: Image.Image, fmt: str, extension: str) -> tuple[bytes, str]:
    """Re-encode as `fmt`; over the upload limit, once more lossy and smaller, else refuse."""
    max_bytes = settings.NPU_IMAGE_MAX_BYTES
    encoded = _encode(image, fmt)
    if len(encoded) <= max_bytes:
        return encoded, extension
    if image.mode == "RGBA":
        fmt, extension, max_side = "WEBP", "webp", WEBP_MAX_SIDE
    else:
        fmt, extension, max_side = "JPEG", "jpg", JPEG_MAX_SIDE
    if max(image.size) <= max_side:
        encoded = _encode(image, fmt, quality=FALLBACK_QUALITY)
        if len(encoded) <= max_bytes:
            return encoded, extension
    raise _reject(MESSAGE_TOO_DETAILED, "too_detailed", limit=filesizeformat(max_bytes))


def image_process(upload) -> ProcessedImage:
    """Validate an uploaded file and re-encode it and its thumbnail; raises ValidationError."""
    content = _read_upload(upload)
    image = _open(content)
    source_format = image.format
    stored_format, extension = ACCEPTED_FORMATS[source_format]
    try:
        image.seek(0)  # GIF and MPO: the first frame only
        # Read as ImageOps.exif_transpose reads it, from the upload, and applied to the scaled
        # picture, where turning it costs a fraction.
        transpose = ORIENTATION_TRANSPOSE.get(image.getexif().get(ExifTags.Base.Orientation))
        # Rebinding `image` drops the full-size picture as soon as the scaled one exists.
        image = _decoded_within(image, settings.NPU_IMAGE_MAX_SIDE)
        if transpose is not None:
            image = image.transpose(transpose)
        image = _pixels_only(image)
        if image.mode == "RGBA" and stored_format == "JPEG":
            stored_format, extension = "PNG", "png"
        encoded, extension = _encode_within_limit(image, stored_format, extension)
        thumbnail = _scaled_down(image, settings.NPU_THUMBNAIL_SIZE, THUMBNAIL_REDUCING_GAP)
        encoded_thumbnail = _encode(thumbnail, THUMBNAIL_FORMAT[0])
        fingerprint = image_fingerprint(thumbnail)
    except (OSError, SyntaxError, ValueError, struct.error, EOFError) as error:
        raise _reject(MESSAGE_DAMAGED, "damaged") from error
    return ProcessedImage(
        content=encoded,
        extension=extension,
        thumbnail=encoded_thumbnail,
        thumbnail_extension=THUMBNAIL_FORMAT[1],
        width=image.width,
        height=image.height,
        fingerprint=fingerprint,
    )


FINGERPRINT_SIDE = 8


def image_fingerprint(image: Image.Image) -> int:
    """A 128-bit perceptual hash: a difference hash across the rows and one down the columns.

    Each bit says whether a cell of a small greyscale copy is brighter than its neighbour, so
    resizing, recompressing and slight cropping change few bits while different pictures differ
    in many. Written with Pillow alone (imagehash would bring numpy, scipy and PyWavelets for
    the same twenty lines).
    """
    side = FINGERPRINT_SIDE
    gray = image.convert("L")
    bits = 0
    wide = gray.resize((side + 1, side), Image.Resampling.LANCZOS).get_flattened_data()
    for row in range(side):
        for col in range(side):
            left, right = wide[row * (side + 1) + col], wide[row * (side + 1) + col + 1]
            bits = (bits << 1) | (left > right)
    tall = gray.resize((side, side + 1), Image.Resampling.LANCZOS).get_flattened_data()
    for row in range(side):
        for col in range(side):
            upper, lower = tall[row * side + col], tall[(row + 1) * side + col]
            bits = (bits << 1) | (upper > lower)
    return bits


def image_store(processed: ProcessedImage) -> tuple[str, str]:
    """Save the picture and thumbnail under `creations/YYYY/MM/<uuid>.<ext>`; return both names."""
    stem = f"creations/{timezone.now():%Y/%m}/{uuid.uuid4().hex}"
    image_name = default_storage.save(
        f"{stem}.{processed.extension}", ContentFile(processed.content)
    )
    try:
        thumbnail_name = default_storage.save(
            f"{stem}.thumb.{processed.thumbnail_extension}", ContentFile(processed.thumbnail)
        )
    except Exception:
        default_storage.delete(image_name)
        raise
    return image_name, thumbnail_name


def image_delete(*names: str) -> None:
    """Remove stored files, logging (not raising) when one is already gone or unreachable."""
    for name in names:
        if not name:
            continue
        try:
            default_storage.delete(name)
        except Exception:
            logger.exception("Could not delete stored file %s", name)
