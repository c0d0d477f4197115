"""The output formats: one registry entry per format, with its encoder, that the spec, the
renderer, the verifier, the bench and the docs read.

Adding a format is adding an entry here (docs/extending.md): the spec accepts exactly these
names, the renderer encodes with the entry's `encode` and holds the bytes to its `complete`, the
checks decode with Pillow and expect its `pillow_format`, the object key takes its
`extension`. Encoders import their libraries when
first called: parsing a spec does not load libvips.

PNG and AVIF are encoded by libvips (pyvips), WebP and JPEG by Pillow. libvips' PNG writer
(libspng and zlib-ng in the pyvips-binary wheel) is about four times faster than Pillow's at the
same zlib level and the same size; on a 1200 px card it was the largest single cost of a render
(bench/: `make bench`). AVIF: libvips' `heifsave` (libheif with libaom, in the same wheel) and
Pillow's AVIF plugin (libavif with libaom) were measured side by side at equal SSIM on one core
(`make bench`, "AVIF"); the faster one at the same size is used. No encoder writes timestamps or
other varying metadata, so the same pixels always give the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

# zlib level 6, as Pillow's and libpng's default: within 2% of level 9's size for the cards
# measured, at a seventh of its time; level 1 is 2x faster again but 70% larger (bench/).
PNG_COMPRESS_LEVEL = 6
# WebP method 4 is libwebp's default speed/size trade-off.
WEBP_METHOD = 4
# libaom's effort for AVIF (libvips' `effort`, 0 fastest to 9 smallest): the documented speed,
# chosen from the bytes and time per effort that `make bench` prints ("AVIF").
AVIF_EFFORT = 2
# cairosvg draws at 96 dpi; the PNG says so instead of libvips' default of 1 pixel per mm.
PIXELS_PER_MM = 96 / 25.4

# An encoder: an RGB image (the backdrop painted) and the quality asked for (None for a
# lossless format).
Encoder = Callable[["Image.Image", "int | None"], bytes]


def _encode_png(image: Image.Image, quality: int | None) -> bytes:
    import pyvips

    # keep=NONE: no EXIF or XMP block, nothing that varies between runs.
    return _vips_image(image).pngsave_buffer(
        compression=PNG_COMPRESS_LEVEL, keep=pyvips.enums.ForeignKeep.NONE
    )


def _vips_image(image: Image.Image):
    import pyvips

    pixels = pyvips.Image.new_from_memory(
        image.tobytes(), image.width, image.height, len(image.getbands()), "uchar"
    )
    return pixels.copy(xres=PIXELS_PER_MM, yres=PIXELS_PER_MM)


def _encode_avif(image: Image.Image, quality: int | None) -> bytes:
    import pyvips

    return _vips_image(image).heifsave_buffer(
        Q=quality,
        compression=pyvips.enums.ForeignHeifCompression.AV1,
        effort=AVIF_EFFORT,
        keep=pyvips.enums.ForeignKeep.NONE,
    )


def _pillow_encoder(pillow_format: str, **options: object) -> Encoder:
    def encode(image: Image.Image, quality: int | None) -> bytes:
        buffer = io.BytesIO()
        image.save(buffer, pillow_format, quality=quality, **options)
        return buffer.getvalue()

    return encode


# Whether an encoding is whole: the header alone (what the renderer parses, to stay cheap)
# does not show a file cut short by a failing encoder or a short write.
Completeness = Callable[[bytes], bool]

_PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"


def _png_complete(data: bytes) -> bool:
    return data.endswith(_PNG_END)


def _jpeg_complete(data: bytes) -> bool:
    return data.endswith(b"\xff\xd9")


def _riff_complete(data: bytes) -> bool:
    # RIFF's size field counts what follows its first 8 bytes.
    return len(data) >= 12 and int.from_bytes(data[4:8], "little") + 8 == len(data)


def _isobmff_complete(data: bytes) -> bool:
    """The top-level boxes of an ISO base media file (AVIF) span exactly the file."""
    position = 0
    while position < len(data):
        if len(data) - position < 8:
            return False
        size = int.from_bytes(data[position : position + 4], "big")
        header = 8
        if size == 1:  # a 64-bit size follows the box type
            if len(data) - position < 16:
                return False
            size, header = int.from_bytes(data[position + 8 : position + 16], "big"), 16
        elif size == 0:  # the box runs to the end of the file
            return True
        if size < header:
            return False
        position += size
    return position == len(data)


@dataclass(frozen=True)
class OutputFormat:
    name: str  # as written in a spec's outputs[].format
    extension: str  # of the output's object key
    content_type: str
    pillow_format: str  # what Pillow's Image.format says when it decodes one
    lossless: bool
    encode: Encoder
    complete: Completeness
    # For lossy formats: the quality used when a spec gives none.
    default_quality: int | None = None


FORMATS: dict[str, OutputFormat] = {
    format.name: format
    for format in (
        OutputFormat(
            "png",
            "png",
            "image/png",
            "PNG",
            lossless=True,
            encode=_encode_png,
            complete=_png_complete,
        ),
        OutputFormat(
            "webp",
            "webp",
            "image/webp",
            "WEBP",
            lossless=False,
            encode=_pillow_encoder("WEBP", method=WEBP_METHOD),
            complete=_riff_complete,
            default_quality=80,
        ),
        OutputFormat(
            "jpeg",
            "jpg",
            "image/jpeg",
            "JPEG",
            lossless=False,
            encode=_pillow_encoder("JPEG"),
            complete=_jpeg_complete,
            default_quality=85,
        ),
        OutputFormat(
            "avif",
            "avif",
            "image/avif",
            "AVIF",
            lossless=False,
            encode=_encode_avif,
            complete=_isobmff_complete,
            # At 60 its SSIM is at least WebP's at WebP's default (80), in fewer bytes, on the
            # bench's cards and photo products (make bench, "AVIF").
            default_quality=60,
        ),
    )
}

# Other names a spec may use for a format; a spec naming one gets the format itself (its
# extension, its fingerprint): `jpg` is `jpeg`, stored as .jpg as always.
FORMAT_ALIASES = {"jpg": "jpeg"}
