"""Contact sheets: one small image showing every variant of a product."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image

BACKGROUND = (255, 255, 255)


@dataclass(frozen=True)
class ContactSheet:
    jpeg: bytes
    # The same sheet at most `preview_width` wide: small enough to embed in an event's metadata.
    preview_jpeg: bytes


def contact_sheet(
    images: Sequence[bytes], tile: int = 160, columns: int = 8, preview_width: int = 640
) -> ContactSheet:
    """A JPEG grid of `images` (any format Pillow reads), each fitted into a `tile` square.

    Made once per product in the process that stores the outputs, while the workers draw the
    next product: bilinear filtering costs half of Lanczos's CPU time here, and at this scale
    (a 200 px thumbnail to a 160 px tile) the two look the same.
    """
    if not images:
        raise ValueError("a contact sheet needs at least one image")
    columns = min(columns, len(images))
    rows = math.ceil(len(images) / columns)
    gap = max(2, tile // 20)
    sheet = Image.new("RGB", (columns * (tile + gap) + gap, rows * (tile + gap) + gap), BACKGROUND)
    for index, data in enumerate(images):
        with Image.open(io.BytesIO(data)) as image:
            thumbnail = image.convert("RGB")
        thumbnail.thumbnail((tile, tile), Image.Resampling.BILINEAR)
        row, column = divmod(index, columns)
        x = gap + column * (tile + gap) + (tile - thumbnail.width) // 2
        y = gap + row * (tile + gap) + (tile - thumbnail.height) // 2
        sheet.paste(thumbnail, (x, y))
    preview = sheet
    if sheet.width > preview_width:
        height = max(1, round(sheet.height * preview_width / sheet.width))
        preview = sheet.resize((preview_width, height), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return ContactSheet(jpeg=_jpeg(sheet, quality=80), preview_jpeg=_jpeg(preview, quality=70))


def _jpeg(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()
