"""The output formats: one registry entry per format, with its encoder, that the spec, the
renderer, the verifier, the bench and the docs read.

Adding a format is adding an entry here (docs/extending.md): the spec accepts exactly these
names, the renderer encodes with the entry's `encode`, the checks decode with Pillow and expect
its `pillow_format`, the object key takes its `extension`. Encoders import their libraries when
first called: parsing a spec does not load libvips.

PNG is encoded by libvips (pyvips), WebP and JPEG by Pillow. libvips' PNG writer (libspng and
zlib-ng in the pyvips-binary wheel) is about four times faster than Pillow's at the same zlib
level and the same size; on a 1200 px card it was the largest single cost of a render
(bench/: `make bench`). No encoder writes timestamps or other varying metadata, so the same
pixels always give the same bytes.
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
# cairosvg draws at 96 dpi; the PNG says so instead of libvips' default of 1 pixel per mm.
PIXELS_PER_MM = 96 / 25.4

# An encoder: an RGB image (the backdrop painted) and the quality asked for (None for a
# lossless format).
Encoder = Callable[["Image.Image", "int | None"], bytes]


def _encode_png(image: Image.Image, quality: int | None) -> bytes:
    import pyvips

    pixels = pyvips.Image.new_from_memory(
        image.tobytes(), image.width, image.height, len(image.getbands()), "uchar"
    )
    pixels = pixels.copy(xres=PIXELS_PER_MM, yres=PIXELS_PER_MM)
    # keep=NONE: no EXIF or XMP block, nothing that varies between runs.
    return pixels.pngsave_buffer(compression=PNG_COMPRESS_LEVEL, keep=pyvips.enums.ForeignKeep.NONE)


def _pillow_encoder(pillow_format: str, **options: object) -> Encoder:
    def encode(image: Image.Image, quality: int | None) -> bytes:
        buffer = io.BytesIO()
        image.save(buffer, pillow_format, quality=quality, **options)
        return buffer.getvalue()

    return encode


@dataclass(frozen=True)
class OutputFormat:
    name: str  # as written in a spec's outputs[].format
    extension: str  # of the output's object key
    content_type: str
    pillow_format: str  # what Pillow's Image.format says when it decodes one
    lossless: bool
    encode: Encoder
    # For lossy formats: the quality used when a spec gives none.
    default_quality: int | None = None


FORMATS: dict[str, OutputFormat] = {
    format.name: format
    for format in (
        OutputFormat("png", "png", "image/png", "PNG", lossless=True, encode=_encode_png),
        OutputFormat(
            "webp",
            "webp",
            "image/webp",
            "WEBP",
            lossless=False,
            encode=_pillow_encoder("WEBP", method=WEBP_METHOD),
            default_quality=80,
        ),
        OutputFormat(
            "jpeg",
            "jpg",
            "image/jpeg",
            "JPEG",
            lossless=False,
            encode=_pillow_encoder("JPEG"),
            default_quality=85,
        ),
    )
}
