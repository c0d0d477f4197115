"""Contact sheets: one small image showing every variant of a product."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

from PIL import Image

BACKGROUND = (255, 255, 255)


def contact_sheet(images: Sequence[bytes], tile: int = 160, columns: int = 8) -> bytes:
    """A JPEG grid of `images` (any format Pillow reads), each fitted into a `tile` square."""
    if not images:
        raise ValueError("a contact sheet needs at least one image")
    columns = min(columns, len(images))
    rows = math.ceil(len(images) / columns)
    gap = max(2, tile // 20)
    sheet = Image.new("RGB", (columns * (tile + gap) + gap, rows * (tile + gap) + gap), BACKGROUND)
    for index, data in enumerate(images):
        with Image.open(io.BytesIO(data)) as image:
            thumbnail = image.convert("RGB")
        thumbnail.thumbnail((tile, tile), Image.Resampling.LANCZOS)
        row, column = divmod(index, columns)
        x = gap + column * (tile + gap) + (tile - thumbnail.width) // 2
        y = gap + row * (tile + gap) + (tile - thumbnail.height) // 2
        sheet.paste(thumbnail, (x, y))
    buffer = io.BytesIO()
    sheet.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def downscale_jpeg(data: bytes, max_width: int) -> bytes:
    """A smaller JPEG of `data`, for embedding in event metadata."""
    with Image.open(io.BytesIO(data)) as image:
        image = image.convert("RGB")
    if image.width > max_width:
        height = max(1, round(image.height * max_width / image.width))
        image = image.resize((max_width, height), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=70)
    return buffer.getvalue()
