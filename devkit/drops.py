"""A catalog drop with bad and late photos: small products on the uploaded lookbook template,
each showing a photo of its own. The UI tests, `make bench` and `make scale` drop it to see
that the good products publish and the bad ones fail alone, each with its reason.
"""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path

from PIL import Image

from renderfarm_dagster.storage import ObjectStore

TEMPLATE_KEY = "templates/lookbook.svg"
TEMPLATE = (
    Path(__file__).resolve().parent.parent
    / "renderfarm_dagster"
    / "examples"
    / "templates"
    / "lookbook.svg"
).read_bytes()
# One small output per variant: what is measured is the products' outcomes, not pixels.
OUTPUT = {"name": "card", "width": 160, "height": 200, "format": "jpeg"}


def product_ids(count: int, prefix: str = "drop") -> list[str]:
    return [f"{prefix}-{index:05d}" for index in range(count)]


def photo_key(product_id: str) -> str:
    return f"assets/{product_id}.jpg"


def spec(product_id: str, variants: int = 1) -> bytes:
    return json.dumps(
        {
            "spec_version": 2,
            "product_id": product_id,
            "template": "lookbook",
            "layers": {"title": {"text": product_id}, "photo": {"image": photo_key(product_id)}},
            "variants": [{"variant_id": f"v{index}"} for index in range(variants)],
            "outputs": [OUTPUT],
        }
    ).encode()


def good_photo(index: int) -> bytes:
    """A small JPEG, a different colour for each product."""
    colour = ((index * 47) % 256, (index * 89) % 256, (index * 131) % 256)
    image = Image.new("RGB", (240, 300), colour)
    image.paste((255, 255, 255), (60, 60, 180, 240))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def truncated_photo() -> bytes:
    """An upload cut short: the JPEG's header is whole, its pixels are not."""
    photo = good_photo(0)
    return photo[: len(photo) // 2]


def oversized_photo() -> bytes:
    """A JPEG whose header says 10,000 x 6,000 (60 megapixels, over the 50 MP limit): what the
    limit reads, before anything is decoded."""
    photo = bytearray(good_photo(0))
    frame = photo.index(b"\xff\xc0")  # the baseline frame header: length, precision, h, w
    photo[frame + 5 : frame + 9] = struct.pack(">HH", 6_000, 10_000)
    return bytes(photo)


# The bad inputs of a drop, each with what its product's failure names.
BAD_PHOTOS = {
    "truncated": (truncated_photo, "cannot be decoded"),
    "missing": (None, "no photo stored at this key"),
    "oversized": (oversized_photo, "pixels, over the limit"),
}


def store_template(objects: ObjectStore) -> None:
    objects.put(TEMPLATE_KEY, TEMPLATE, "image/svg+xml")


def store_photo(objects: ObjectStore, product_id: str, index: int, bad: str | None = None) -> None:
    """The product's photo, good or of the `bad` kind (nothing at all for "missing")."""
    if bad is None:
        objects.put(photo_key(product_id), good_photo(index), "image/jpeg")
        return
    make, _ = BAD_PHOTOS[bad]
    if make is not None:
        objects.put(photo_key(product_id), make(), "image/jpeg")
