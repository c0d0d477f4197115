"""Contact sheets: one small image showing every variant of a product in every shape, grouped by
the template layout each shape is drawn from."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFont

BACKGROUND = (255, 255, 255)
HEADING = (90, 90, 96)


def contact_sheet(
    groups: Sequence[tuple[str, Sequence[bytes]]],
    tile: int = 160,
    columns: int = 8,
) -> bytes:
    """A JPEG grid of images (any format Pillow reads), each fitted into a `tile` square: one
    band per group (a template layout, by name), its images in rows of `columns`. With more
    than one group, each band is headed by its name.

    Made once per product in the process that stores the outputs, while the workers draw the
    next product: bilinear filtering costs half of Lanczos's CPU time here, and at this scale
    (a 200 px thumbnail to a 160 px tile) the two look the same.
    """
    groups = [(name, images) for name, images in groups if images]
    if not groups:
        raise ValueError("a contact sheet needs at least one image")
    columns = min(columns, max(len(images) for _, images in groups))
    gap = max(2, tile // 20)
    heading = tile // 6 if len(groups) > 1 else 0
    bands = [(name, images, math.ceil(len(images) / columns)) for name, images in groups]
    height = gap + sum(heading + rows * (tile + gap) for _, _, rows in bands)
    sheet = Image.new("RGB", (columns * (tile + gap) + gap, height), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    top = gap
    for name, images, rows in bands:
        if heading:
            font = ImageFont.load_default(size=max(8, heading - 4))
            draw.text((gap, top), name, fill=HEADING, font=font)
            top += heading
        for index, data in enumerate(images):
            with Image.open(io.BytesIO(data)) as image:
                thumbnail = image.convert("RGB")
            thumbnail.thumbnail((tile, tile), Image.Resampling.BILINEAR)
            row, column = divmod(index, columns)
            x = gap + column * (tile + gap) + (tile - thumbnail.width) // 2
            y = top + row * (tile + gap) + (tile - thumbnail.height) // 2
            sheet.paste(thumbnail, (x, y))
        top += rows * (tile + gap)
    return _jpeg(sheet, quality=80)


def _jpeg(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()
