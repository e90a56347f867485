"""Test pictures made with Pillow (or by hand), so the tests need no files on disk.

Also readers that list what a stored file carries besides its pixels, parsed from the raw
bytes rather than trusted to Pillow, so a leak Pillow hides on reading still shows.
"""

import io
import struct
import zlib

from PIL import Image


def image_bytes(
    fmt: str = "PNG", size: tuple[int, int] = (64, 48), color=(201, 26, 9), **save_options
) -> bytes:
    mode = "RGBA" if len(color) == 4 else "RGB"
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, fmt, **save_options)
    return buffer.getvalue()


# Hand-made PNGs ------------------------------------------------------------------------------

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_chunk(kind: bytes, body: bytes, crc: int | None = None) -> bytes:
    if crc is None:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def png_header(width: int, height: int, bit_depth: int = 8, color_type: int = 2) -> bytes:
    """An IHDR chunk; colour types: 0 grey, 2 RGB, 4 grey + alpha, 6 RGBA."""
    return png_chunk(
        b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    )


def png_from_rows(ihdr: bytes, row: bytes, height: int, extra_chunks: bytes = b"") -> bytes:
    """A PNG whose every row is `row` (filter byte included), `extra_chunks` before IDAT."""
    idat = png_chunk(b"IDAT", zlib.compress(row * height))
    return PNG_SIGNATURE + ihdr + extra_chunks + idat + png_chunk(b"IEND", b"")


def grey_icc_profile(gamma: float = 1.0, description: str = "Linear grey") -> bytes:
    """A minimal ICC v2 greyscale display profile (littleCMS reads it; Pillow cannot make one).

    With gamma 1.0 the grey values are linear light, so a mid grey of 128 is about 188 in sRGB:
    a test can tell a converted picture from one whose profile was merely dropped.
    """

    def s15fixed16(value: float) -> bytes:
        return struct.pack(">i", round(value * 65536))

    d50 = s15fixed16(0.9642) + s15fixed16(1.0) + s15fixed16(0.8249)
    ascii_text = description.encode() + b"\0"
    tags = [
        (  # textDescriptionType: ASCII, then empty Unicode and ScriptCode parts
            b"desc",
            b"desc\0\0\0\0" + struct.pack(">I", len(ascii_text)) + ascii_text + bytes(8 + 3 + 67),
        ),
        (b"wtpt", b"XYZ \0\0\0\0" + d50),
        (b"kTRC", b"curv\0\0\0\0" + struct.pack(">IH", 1, round(gamma * 256))),
        (b"cprt", b"text\0\0\0\0No copyright\0"),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, body = struct.pack(">I", len(tags)), b""
    for signature, tag in tags:
        tag += bytes(-len(tag) % 4)
        table += signature + struct.pack(">II", offset + len(body), len(tag))
        body += tag
    header = (
        struct.pack(">I", offset + len(body))
        + b"lcms"
        + struct.pack(">I", 0x02100000)
        + b"mntrGRAYXYZ "
        + bytes(12)  # date
        + b"acsp"
        + bytes(4 + 4 + 4 + 4 + 8 + 4)  # platform, flags, maker, model, attributes, intent
        + d50
    )
    return header.ljust(128, b"\0") + table + body


# What a stored file carries besides pixels ---------------------------------------------------

# PNG chunks that only describe pixels: header, palette, transparency, data, end.
PNG_PIXEL_CHUNKS = {b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND"}
# WebP chunks that only describe pixels: lossy or lossless data, alpha, the extended header.
WEBP_PIXEL_CHUNKS = {b"VP8 ", b"VP8L", b"VP8X", b"ALPH"}
# What Pillow reports on opening a clean file of each format (structure, not metadata).
STRUCTURAL_INFO = {
    "JPEG": {"jfif", "jfif_version", "jfif_unit", "jfif_density", "progressive", "progression"},
    "PNG": set(),
    "WEBP": {"loop", "background"},
}


def png_chunk_types(content: bytes) -> list[bytes]:
    assert content.startswith(PNG_SIGNATURE), "not a PNG"
    kinds, position = [], len(PNG_SIGNATURE)
    while position < len(content):
        length, kind = struct.unpack(">I4s", content[position : position + 8])
        kinds.append(kind)
        position += 12 + length
        if kind == b"IEND":
            break
    if position < len(content):
        kinds.append(b"<bytes after IEND>")
    return kinds


def jpeg_segments(content: bytes) -> list[tuple[int, bytes]]:
    """The marker segments before the first scan, as (marker, payload)."""
    assert content.startswith(b"\xff\xd8"), "not a JPEG"
    segments, position = [], 2
    while position < len(content):
        marker = content[position + 1]
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            break
        (length,) = struct.unpack(">H", content[position + 2 : position + 4])
        segments.append((marker, content[position + 4 : position + 2 + length]))
        position += 2 + length
    return segments


def webp_chunk_types(content: bytes) -> list[bytes]:
    assert content[:4] == b"RIFF" and content[8:12] == b"WEBP", "not a WebP"
    kinds, position = [], 12
    while position + 8 <= len(content):
        kind, length = struct.unpack("<4sI", content[position : position + 8])
        kinds.append(kind)
        position += 8 + length + (length & 1)
    return kinds


def stored_metadata(content: bytes) -> list[str]:
    """Everything in a stored JPEG, PNG or WebP that is not pixels; [] for a clean file."""
    found = []
    if content.startswith(b"\xff\xd8"):
        for marker, payload in jpeg_segments(content):
            if marker == 0xFE:
                found.append(f"JPEG comment {payload[:40]!r}")
            elif marker == 0xE0 and payload.startswith(b"JFIF\0"):
                continue  # the standard JFIF header every encoder writes
            elif 0xE0 <= marker <= 0xEF:
                found.append(f"JPEG APP{marker - 0xE0} {payload[:20]!r}")
        if not content.endswith(b"\xff\xd9"):
            found.append("bytes after the JPEG end marker")
    elif content.startswith(PNG_SIGNATURE):
        found += [
            f"PNG {kind!r}" for kind in png_chunk_types(content) if kind not in PNG_PIXEL_CHUNKS
        ]
    elif content[:4] == b"RIFF":
        found += [
            f"WebP {kind!r}" for kind in webp_chunk_types(content) if kind not in WEBP_PIXEL_CHUNKS
        ]
        if b"VP8X" in webp_chunk_types(content):
            flags = content[20]
            # VP8X flags: 0x20 ICC, 0x08 EXIF, 0x04 XMP, 0x02 animation (0x10 alpha is pixels).
            found += [f"WebP VP8X flag {bit:#x}" for bit in (0x20, 0x08, 0x04, 0x02) if flags & bit]
    else:
        return ["not a JPEG, PNG or WebP"]

    image = Image.open(io.BytesIO(content))
    found += [f"info {key}" for key in set(image.info) - STRUCTURAL_INFO[image.format]]
    found += [f"EXIF tag {tag}" for tag in image.getexif()]
    if image.format == "JPEG":
        found += [f"{name} segment" for name, _ in image.applist if name != "APP0"]
    return found
