import io
import random
import re
import struct
import zlib

import pillow_heif
import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image, ImageCms, ImageFile, ImageOps
from PIL.JpegImagePlugin import JpegImageFile

from creations.images import image_process, image_store
from creations.models import Creation
from creations.services import creation_create
from tests import upload_corpus
from tests.images import grey_icc_profile, image_bytes, png_chunk, stored_metadata

STORED_NAME = re.compile(r"^creations/\d{4}/\d{2}/[0-9a-f]{32}\.(jpg|png|webp)$")
THUMBNAIL_NAME = re.compile(r"^creations/\d{4}/\d{2}/[0-9a-f]{32}\.thumb\.webp$")


def upload(content: bytes, name: str = "photo.png", content_type: str = "image/png"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def png_bomb() -> bytes:
    """A 100,000 × 100,000 PNG header in a few dozen bytes: it claims 10 gigapixels."""
    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + png_chunk(b"IEND", b"")
    )


def over_40_megapixels() -> bytes:
    buffer = io.BytesIO()
    Image.new("1", (8000, 5001)).save(buffer, "PNG")  # 40.008 MP, a small file
    return buffer.getvalue()


BAD_FILES = {
    "text renamed .png": (b"hello, this is not a picture\n" * 10, "not an image we accept"),
    "truncated png": (image_bytes("PNG", size=(300, 200))[:150], "damaged or incomplete"),
    "zero bytes": (b"", "The file is empty"),
    "decompression bomb": (png_bomb(), "megapixels"),
    "over 40 megapixels": (over_40_megapixels(), "40.0 megapixels; the limit is 40"),
    "over 10 MB": (b"\x89PNG\r\n\x1a\n" + b"\x00" * (10 * 1024 * 1024), "the limit is 10"),
    "svg": (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        b'<rect width="10" height="10" fill="red"/></svg>',
        "not an image we accept",
    ),
    "pdf": (b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n", "not an image we accept"),
}


@pytest.mark.parametrize("case", BAD_FILES, ids=list(BAD_FILES))
def test_bad_file_is_rejected_with_a_clear_message(case):
    content, expected = BAD_FILES[case]
    with pytest.raises(ValidationError) as excinfo:
        image_process(upload(content))
    assert expected in excinfo.value.messages[0]


@pytest.mark.django_db
@pytest.mark.parametrize("case", BAD_FILES, ids=list(BAD_FILES))
def test_bad_file_creates_nothing_and_stores_nothing(case, member, media_files):
    content, expected = BAD_FILES[case]
    with pytest.raises(ValidationError) as excinfo:
        creation_create(owner=member, title="Bad", image=upload(content), tags="space")
    assert expected in excinfo.value.message_dict["image"][0]
    assert not Creation.objects.exists()
    assert media_files() == []


def test_format_is_decided_by_content_not_by_name_or_declared_type():
    processed = image_process(upload(image_bytes("JPEG"), "holiday.png", "image/png"))
    assert processed.extension == "jpg"


def test_upload_that_lies_about_its_size_is_still_measured():
    content = b"\xff\xd8" + b"\x00" * (10 * 1024 * 1024)
    fake = upload(content)
    fake.size = 10  # a declared size the bytes do not match
    with pytest.raises(ValidationError, match="limit is 10"):
        image_process(fake)


def jpeg_with_gps_and_orientation(orientation: int = 1) -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (52.0, 22.0, 30.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (4.0, 53.0, 10.0)
    buffer = io.BytesIO()
    Image.new("RGB", (60, 40), (0, 85, 191)).save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def test_gps_and_other_exif_are_stripped_from_the_stored_copy():
    original = jpeg_with_gps_and_orientation()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(ExifTags.IFD.GPSInfo)

    processed = image_process(upload(original, "photo.jpg", "image/jpeg"))

    for content in (processed.content, processed.thumbnail):
        stored = Image.open(io.BytesIO(content))
        assert dict(stored.getexif()) == {}
        assert "exif" not in stored.info
        assert b"PhoneMaker" not in content


def test_exif_orientation_is_applied_before_the_tag_is_dropped():
    # Orientation 6: the camera was turned, so the 60 × 40 sensor picture shows 40 × 60.
    processed = image_process(upload(jpeg_with_gps_and_orientation(6), "photo.jpg"))
    assert (processed.width, processed.height) == (40, 60)
    assert Image.open(io.BytesIO(processed.content)).size == (40, 60)


def test_heic_photo_is_accepted_and_re_encoded_as_jpeg():
    pillow_heif.register_heif_opener()
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), (242, 205, 55)).save(buffer, "HEIF", quality=80)

    processed = image_process(upload(buffer.getvalue(), "IMG_0001.HEIC", "image/heic"))

    stored = Image.open(io.BytesIO(processed.content))
    assert stored.format == "JPEG"
    assert stored.size == (320, 240) == (processed.width, processed.height)
    red, green, blue = stored.convert("RGB").getpixel((160, 120))
    assert abs(red - 242) < 12 and abs(green - 205) < 12 and abs(blue - 55) < 12


def test_gif_keeps_only_its_first_frame():
    frames = [Image.new("RGB", (30, 20), color) for color in ((255, 0, 0), (0, 0, 255))]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=100)

    processed = image_process(upload(buffer.getvalue(), "anim.gif", "image/gif"))

    stored = Image.open(io.BytesIO(processed.content))
    assert processed.extension == "png"
    assert getattr(stored, "n_frames", 1) == 1
    assert stored.convert("RGB").getpixel((5, 5)) == (255, 0, 0)


def test_transparency_is_kept():
    processed = image_process(upload(image_bytes("PNG", color=(0, 0, 0, 0))))
    stored = Image.open(io.BytesIO(processed.content))
    assert processed.extension == "png"
    assert stored.mode == "RGBA" and stored.getpixel((1, 1))[3] == 0


def test_webp_stays_webp():
    processed = image_process(upload(image_bytes("WEBP"), "x.webp", "image/webp"))
    assert processed.extension == "webp"


def test_thumbnail_longest_side_is_480_pixels():
    processed = image_process(upload(image_bytes("PNG", size=(1200, 800))))
    thumbnail = Image.open(io.BytesIO(processed.thumbnail))
    assert thumbnail.format == "WEBP"
    assert thumbnail.size == (480, 320)
    assert (processed.width, processed.height) == (1200, 800)


def test_small_image_thumbnail_is_not_enlarged():
    processed = image_process(upload(image_bytes("PNG", size=(100, 300))))
    assert Image.open(io.BytesIO(processed.thumbnail)).size == (100, 300)


@pytest.mark.django_db
def test_stored_files_get_random_dated_names(member):
    creation = creation_create(
        owner=member, title="Lamp", image=upload(image_bytes("JPEG"), "my house.jpg")
    )
    assert STORED_NAME.match(creation.image.name)
    assert THUMBNAIL_NAME.match(creation.thumbnail.name)
    assert creation.image.name.removesuffix(".jpg") == creation.thumbnail.name.removesuffix(
        ".thumb.webp"
    )
    assert default_storage.exists(creation.image.name)
    assert (creation.width, creation.height) == (64, 48)


class ThumbnailFailingStorage(FileSystemStorage):
    """A disk that fills up between the picture and its thumbnail."""

    def _save(self, name, content):
        if ".thumb." in name:
            raise OSError("No space left on device")
        return super()._save(name, content)


def test_failed_thumbnail_write_removes_the_picture(settings, media_files):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": f"{__name__}.ThumbnailFailingStorage"},
    }
    processed = image_process(upload(image_bytes("PNG")))
    with pytest.raises(OSError):
        image_store(processed)
    assert media_files() == []


@pytest.mark.django_db
def test_failed_database_write_removes_both_files(member, media_files, monkeypatch):
    def broken_save(self, *args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(Creation, "save", broken_save)
    with pytest.raises(RuntimeError):
        creation_create(owner=member, title="Lamp", image=upload(image_bytes("PNG")))
    assert media_files() == []


# Nothing but pixels survives -----------------------------------------------------------------


def png_with_srgb_profile() -> bytes:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return image_bytes("PNG", icc_profile=srgb)


def greyscale_with_alpha_and_profile() -> bytes:
    buffer = io.BytesIO()
    picture = Image.new("LA", (40, 30), (128, 100))
    picture.save(buffer, "PNG", icc_profile=grey_icc_profile())
    return buffer.getvalue()


# Sources carrying every kind of metadata their format can hold (see tests/upload_corpus.py).
METADATA_SOURCES = {
    "jpeg comment": upload_corpus.jpeg_comment,
    "jpeg exif gps xmp": upload_corpus.jpeg_exif_gps,
    "jpeg with a zip after it": upload_corpus.jpeg_zip_polyglot,
    "png text exif xmp time": upload_corpus.png_metadata,
    "png rgb with an srgb profile": png_with_srgb_profile,
    "png greyscale with a profile": upload_corpus.png_greyscale_with_profile,
    "png greyscale alpha with a profile": greyscale_with_alpha_and_profile,
    "webp exif xmp profile": upload_corpus.webp_metadata,
    "gif comment xmp and html": upload_corpus.gif_html_polyglot,
    "heic exif gps xmp": upload_corpus.heic_phone_photo,
}


@pytest.mark.parametrize("source", METADATA_SOURCES, ids=list(METADATA_SOURCES))
def test_stored_picture_and_thumbnail_carry_nothing_but_pixels(source):
    content = METADATA_SOURCES[source]()
    carried = Image.open(io.BytesIO(content)).info.keys()
    assert carried & {"comment", "exif", "xmp", "icc_profile", "extension"}  # a real test

    processed = image_process(upload(content))

    for content in (processed.content, processed.thumbnail):
        assert stored_metadata(content) == []
        for private in (*upload_corpus.PRIVATE, b"<script", b"Linear grey", b"ICC Profile"):
            assert private not in content


def test_jpeg_comment_is_not_copied_into_the_stored_jpeg():
    processed = image_process(upload(upload_corpus.jpeg_comment(), "photo.jpg", "image/jpeg"))

    assert b"Owner: Jane Doe" not in processed.content
    assert b"\xff\xfe" not in processed.content.split(b"\xff\xda")[0]  # no COM segment
    stored = Image.open(io.BytesIO(processed.content))
    assert "comment" not in stored.info
    assert [marker for marker, _ in stored.applist] == ["APP0"]  # JFIF only


def test_greyscale_profile_is_applied_then_dropped():
    # Linear-light grey 128 is about 188 in sRGB: converted, not just stripped.
    processed = image_process(upload(upload_corpus.png_greyscale_with_profile()))

    stored = Image.open(io.BytesIO(processed.content))
    assert b"iCCP" not in processed.content
    assert "icc_profile" not in stored.info
    assert stored.mode == "L"
    assert abs(stored.getpixel((1, 1)) - 188) <= 2


def test_greyscale_with_alpha_profile_is_applied_and_alpha_kept():
    processed = image_process(upload(greyscale_with_alpha_and_profile()))

    stored = Image.open(io.BytesIO(processed.content))
    assert b"iCCP" not in processed.content
    grey, _, _, alpha = stored.convert("RGBA").getpixel((1, 1))
    assert abs(grey - 188) <= 2 and alpha == 100


def test_png_transparent_colour_is_kept_as_alpha():
    buffer = io.BytesIO()
    picture = Image.new("RGB", (40, 30), (0, 255, 0))
    picture.paste((200, 30, 30), (0, 0, 20, 30))
    picture.save(buffer, "PNG", transparency=(0, 255, 0))  # a tRNS colour key

    stored = Image.open(io.BytesIO(image_process(upload(buffer.getvalue())).content))

    assert stored.convert("RGBA").getpixel((30, 5))[3] == 0
    assert stored.convert("RGBA").getpixel((5, 5)) == (200, 30, 30, 255)


def test_sixteen_bit_greyscale_png_keeps_its_brightness():
    # Pillow's own convert("L") clips 16-bit values, turning mid grey white.
    processed = image_process(upload(upload_corpus.png_16_bit_grey()))
    assert Image.open(io.BytesIO(processed.content)).getpixel((1, 1)) == 128


# The stored picture stays within the upload limit --------------------------------------------


def palette_noise_png(transparent: bool = False) -> bytes:
    """300 × 300 of 256-colour noise: 90 kB as a palette PNG, 260 kB once re-encoded as RGB."""
    noise = Image.frombytes("RGB", (300, 300), random.Random(3).randbytes(300 * 300 * 3))
    buffer = io.BytesIO()
    options = {"transparency": 0} if transparent else {}
    noise.quantize(256).save(buffer, "PNG", **options)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("transparent", "fallback"), [(False, "JPEG"), (True, "WEBP")], ids=["opaque", "alpha"]
)
def test_picture_re_encoded_over_the_limit_is_stored_lossy_within_it(
    settings, transparent, fallback
):
    settings.NPU_IMAGE_MAX_BYTES = 120_000
    content = palette_noise_png(transparent)
    assert len(content) < settings.NPU_IMAGE_MAX_BYTES

    processed = image_process(upload(content))

    assert len(processed.content) <= settings.NPU_IMAGE_MAX_BYTES
    stored = Image.open(io.BytesIO(processed.content))
    assert stored.format == fallback
    assert processed.extension == {"JPEG": "jpg", "WEBP": "webp"}[fallback]
    assert stored.size == (300, 300)
    assert stored_metadata(processed.content) == []


def test_picture_too_detailed_for_the_limit_even_lossy_is_refused(settings):
    # A noise tile repeated: 94 kB as lossless WebP, 400 kB lossy, 154 kB as JPEG at 70.
    content = upload_corpus.tiled_noise_webp((640, 480))
    settings.NPU_IMAGE_MAX_BYTES = 120_000
    assert len(content) < settings.NPU_IMAGE_MAX_BYTES

    with pytest.raises(ValidationError) as excinfo:
        image_process(upload(content, "tiles.webp", "image/webp"))

    assert "too detailed to store within 117.2" in excinfo.value.messages[0]
    assert excinfo.value.error_list[0].code == "too_detailed"


# Clear messages ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [upload_corpus.png_bad_header_crc, upload_corpus.jpeg_corrupt],
    ids=["png with a broken header checksum", "jpeg with broken huffman tables"],
)
def test_broken_file_of_an_accepted_format_is_called_damaged_not_foreign(make):
    with pytest.raises(ValidationError) as excinfo:
        image_process(upload(make()))
    assert "damaged or incomplete" in excinfo.value.messages[0]


def test_file_over_the_limit_is_called_too_large():
    content = upload_corpus.just_over_ten_mb()
    with pytest.raises(ValidationError) as excinfo:
        image_process(upload(content, "big.jpg"))
    assert excinfo.value.messages[0].startswith("The file is too large (10.0")


def test_pixel_bomb_is_refused_from_its_header_without_decoding(monkeypatch):
    def no_decoding(self):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    with pytest.raises(ValidationError, match="megapixels"):
        image_process(upload(upload_corpus.png_64k_bomb()))


# Scaled down to NPU_IMAGE_MAX_SIDE -----------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "size", "stored_size", "thumbnail_size"),
    [
        ("JPEG", (5000, 3000), (4096, 2458), (480, 288)),
        ("PNG", (3000, 5000), (2458, 4096), (288, 480)),
    ],
    ids=["landscape jpeg", "portrait png"],
)
def test_large_picture_is_stored_scaled_down_to_the_longest_side(
    fmt, size, stored_size, thumbnail_size
):
    processed = image_process(upload(image_bytes(fmt, size=size)))

    assert (processed.width, processed.height) == stored_size
    assert Image.open(io.BytesIO(processed.content)).size == stored_size
    assert Image.open(io.BytesIO(processed.thumbnail)).size == thumbnail_size


@pytest.mark.parametrize(
    ("size", "stored_size"),
    [
        ((300, 150), (100, 50)),
        ((150, 301), (50, 100)),
        ((100, 40), (100, 40)),
        ((30, 20), (30, 20)),
    ],
)
def test_longest_side_follows_the_setting_and_never_enlarges(settings, size, stored_size):
    settings.NPU_IMAGE_MAX_SIDE = 100

    processed = image_process(upload(image_bytes("PNG", size=size)))

    assert (processed.width, processed.height) == stored_size
    assert Image.open(io.BytesIO(processed.content)).size == stored_size
    assert Image.open(io.BytesIO(processed.thumbnail)).size == stored_size


def quadrants_jpeg(orientation: int, size: tuple[int, int] = (400, 200)) -> bytes:
    """Red, green, blue and yellow quarters, so a turn or a flip shows where each one went."""
    width, height = size
    picture = Image.new("RGB", size, (230, 30, 30))
    picture.paste((30, 200, 30), (width // 2, 0, width, height // 2))
    picture.paste((30, 30, 230), (0, height // 2, width // 2, height))
    picture.paste((240, 220, 30), (width // 2, height // 2, width, height))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=95, exif=exif)
    return buffer.getvalue()


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_is_applied_to_a_scaled_down_picture_as_exif_transpose_would(
    settings, orientation
):
    settings.NPU_IMAGE_MAX_SIDE = 100
    content = quadrants_jpeg(orientation)
    expected = ImageOps.exif_transpose(Image.open(io.BytesIO(content)))

    processed = image_process(upload(content, "photo.jpg"))

    stored = Image.open(io.BytesIO(processed.content))
    turned = orientation >= 5
    assert (
        stored.size == (processed.width, processed.height) == ((50, 100) if turned else (100, 50))
    )
    for x, y in ((0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75)):
        want = expected.getpixel((int(x * expected.width), int(y * expected.height)))
        found = stored.getpixel((int(x * stored.width), int(y * stored.height)))
        assert all(abs(a - b) <= 12 for a, b in zip(found, want, strict=True)), (x, y, found)


@pytest.fixture
def jpeg_decoded_sizes(monkeypatch):
    """The size each JPEG is decoded at, recorded as Pillow starts decoding it."""
    decoded_sizes = []
    load = JpegImageFile.load

    def recording_load(self):
        if self.tile:  # Pillow calls load() again on a decoded picture; nothing is decoded then
            decoded_sizes.append(self.size)
        return load(self)

    monkeypatch.setattr(JpegImageFile, "load", recording_load)
    return decoded_sizes


@pytest.mark.parametrize(
    ("size", "decoded_size", "stored_size"),
    [
        ((800, 400), (100, 50), (100, 50)),  # an eighth of each side: 1/64 of the pixels
        # 100 × 51 stored; a quarter would hold only 50.75 rows' worth, so a half it is.
        ((401, 203), (201, 102), (100, 51)),
        ((150, 75), (150, 75), (100, 50)),  # a half would be smaller than the stored picture
    ],
)
def test_large_jpeg_is_decoded_at_a_reduced_scale_never_below_the_stored_size(
    settings, jpeg_decoded_sizes, size, decoded_size, stored_size
):
    settings.NPU_IMAGE_MAX_SIDE = 100

    processed = image_process(upload(quadrants_jpeg(1, size=size), "photo.jpg"))

    assert jpeg_decoded_sizes == [decoded_size]
    assert (processed.width, processed.height) == stored_size
    stored = Image.open(io.BytesIO(processed.content))
    corner = stored.getpixel((stored.width - 1, stored.height - 1))  # yellow to the last pixel
    assert all(abs(a - b) <= 12 for a, b in zip(corner, (240, 220, 30), strict=True)), corner


@pytest.mark.parametrize("source", METADATA_SOURCES, ids=list(METADATA_SOURCES))
def test_scaled_down_picture_carries_nothing_but_pixels(settings, source):
    settings.NPU_IMAGE_MAX_SIDE = 16
    content = METADATA_SOURCES[source]()

    processed = image_process(upload(content))

    assert max(processed.width, processed.height) == 16
    for content in (processed.content, processed.thumbnail):
        assert stored_metadata(content) == []
        for private in (*upload_corpus.PRIVATE, b"<script", b"Linear grey", b"ICC Profile"):
            assert private not in content


def test_scaled_down_greyscale_keeps_its_profile_conversion_and_alpha(settings):
    settings.NPU_IMAGE_MAX_SIDE = 20

    grey = Image.open(
        io.BytesIO(image_process(upload(upload_corpus.png_greyscale_with_profile())).content)
    )
    grey_alpha = Image.open(
        io.BytesIO(image_process(upload(greyscale_with_alpha_and_profile())).content)
    )

    assert grey.size == (20, 15) and abs(grey.getpixel((1, 1)) - 188) <= 2
    value, _, _, alpha = grey_alpha.convert("RGBA").getpixel((1, 1))
    assert abs(value - 188) <= 2 and alpha == 100


def test_scaled_down_sixteen_bit_greyscale_keeps_its_brightness(settings):
    settings.NPU_IMAGE_MAX_SIDE = 20
    processed = image_process(upload(upload_corpus.png_16_bit_grey()))
    stored = Image.open(io.BytesIO(processed.content))
    assert stored.size == (20, 15)
    assert stored.getpixel((10, 7)) == 128


def test_scaled_down_transparent_colour_is_kept_as_alpha(settings):
    settings.NPU_IMAGE_MAX_SIDE = 20
    buffer = io.BytesIO()
    picture = Image.new("RGB", (40, 30), (0, 255, 0))
    picture.paste((200, 30, 30), (0, 0, 20, 30))
    picture.save(buffer, "PNG", transparency=(0, 255, 0))

    stored = Image.open(io.BytesIO(image_process(upload(buffer.getvalue())).content))

    assert stored.size == (20, 15)
    assert stored.convert("RGBA").getpixel((17, 5))[3] == 0
    assert stored.convert("RGBA").getpixel((2, 5)) == (200, 30, 30, 255)


def test_scaled_down_palette_picture_is_smoothed_not_picked_from(settings):
    # Columns of black and white: averaged they are grey; picking every other pixel, one colour.
    settings.NPU_IMAGE_MAX_SIDE = 20
    stripes = Image.new("P", (40, 10), 0)
    stripes.putpalette([0, 0, 0, 255, 255, 255])
    for x in range(1, 40, 2):
        stripes.paste(1, (x, 0, x + 1, 10))
    buffer = io.BytesIO()
    stripes.save(buffer, "GIF")

    stored = Image.open(io.BytesIO(image_process(upload(buffer.getvalue(), "stripes.gif")).content))

    assert stored.size == (20, 5)
    assert 90 <= stored.convert("L").getpixel((10, 2)) <= 165


def test_forty_megapixel_lossless_webp_is_stored_within_the_side_and_byte_limits(settings):
    # 1 MB of repeated noise tiles that were 29 MB as WebP re-encoded at 8000 × 5000.
    case = next(
        case
        for case in upload_corpus.CORPUS
        if case.make is upload_corpus.webp_40_megapixels_lossless
    )
    content = case.content()
    assert Image.open(io.BytesIO(content)).size == (8000, 5000)

    processed = image_process(upload(content, "huge.webp", "image/webp"))

    stored = Image.open(io.BytesIO(processed.content))
    assert stored.size == (processed.width, processed.height) == (4096, 2560)
    assert max(stored.size) <= settings.NPU_IMAGE_MAX_SIDE
    assert len(processed.content) <= settings.NPU_IMAGE_MAX_BYTES
    assert max(Image.open(io.BytesIO(processed.thumbnail)).size) == settings.NPU_THUMBNAIL_SIZE
