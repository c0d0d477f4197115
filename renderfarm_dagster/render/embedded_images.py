"""Bitmaps embedded in a template (`<image href="data:image/png;base64,...">`: a logo, a texture),
as design tools export them. Each is checked as a photo is (its type, its pixels counted from
the header before anything is decoded, the right way up, ICC profile to sRGB) and handed to the
rasteriser under a URL of its own (`embedded:<n>`), like a product photo: cairosvg reads no
data: URI itself.
"""

from __future__ import annotations

import base64
import binascii
import io
from xml.etree import ElementTree as ET

from renderfarm_dagster.render.errors import TemplateProblem
from renderfarm_dagster.render.photo import PhotoError, decode_photo, inspect_photo
from renderfarm_dagster.render.svg_document import EMBEDDED_IMAGE, XLINK_NS, Lines, walk

EMBEDDED_SCHEME = "embedded:"
# All of a template's embedded images together, in pixels: a logo and a texture, not a photo
# album (a 2,000 x 2,000 texture is 4,000,000).
MAX_EMBEDDED_PIXELS = 4_000_000
_EXTENSION = {"png": "png", "jpeg": "jpg", "webp": "webp"}


def embed_images(
    root: ET.Element, lines: Lines, problems: list[TemplateProblem]
) -> dict[str, bytes]:
    """Each embedded image checked and decoded, its href replaced by its URL; the images as
    PNG bytes by URL."""
    images: dict[str, bytes] = {}
    pixels = 0
    for element, _ in walk(root):
        if element.tag != "image":
            continue
        name = "href" if element.get("href") is not None else f"{{{XLINK_NS}}}href"
        match = EMBEDDED_IMAGE.fullmatch((element.get(name) or "").strip())
        if match is None:
            continue  # the policy has refused it
        line = lines.get(element, 0)
        where = f"embedded image at line {line}.{_EXTENSION[match.group(1)]}"
        try:
            data = base64.b64decode("".join(match.group(2).split()), validate=True)
            info = inspect_photo(data, where)
            pixels += info.width * info.height
            if pixels > MAX_EMBEDDED_PIXELS:
                problems.append(
                    TemplateProblem(
                        line,
                        "image",
                        f"embedded images of {pixels:,} pixels in all, over the limit of "
                        f"{MAX_EMBEDDED_PIXELS:,}: downsize them before export",
                    )
                )
                return images
            decoded = decode_photo(data, where)
        except binascii.Error as error:
            problems.append(TemplateProblem(line, "image", f"embedded image: bad base64 ({error})"))
            continue
        except PhotoError as error:
            problems.append(TemplateProblem(line, "image", f"embedded image {error.reason}"))
            continue
        url = f"{EMBEDDED_SCHEME}{len(images)}"
        buffer = io.BytesIO()
        decoded.save(buffer, "PNG", compress_level=1)
        images[url] = buffer.getvalue()
        element.set(name, url)
    return images
