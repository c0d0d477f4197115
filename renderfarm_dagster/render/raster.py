"""SVG to pixels with cairosvg, and pixels to encoded images with Pillow."""

from __future__ import annotations

import io
import sys

from cairosvg.parser import Tree
from cairosvg.surface import PNGSurface
from PIL import Image

# zlib level 6 is Pillow's default and libpng's: the usual size/speed balance for PNG.
PNG_COMPRESS_LEVEL = 6
# WebP method 4 is libwebp's default speed/size trade-off.
WEBP_METHOD = 4
# cairo's ARGB32 is a native-endian 32-bit word; in memory that is B,G,R,A on little-endian.
_CAIRO_RAW_MODE = "BGRX" if sys.byteorder == "little" else "XRGB"


class ExternalResourceError(ValueError):
    """The SVG asked for something outside itself (a file, a URL, a data: image)."""


def _refuse_fetch(url: str, resource_type: str) -> bytes:
    # The project builds every SVG itself and references nothing, so any fetch means hostile
    # or broken content: fail loudly instead of cairosvg's default of rendering a blank image.
    raise ExternalResourceError(f"refused to load external {resource_type} {url!r}")


def rasterize(svg: bytes, width: int, height: int) -> Image.Image:
    """Draw `svg` at exactly `width` x `height` pixels, as an opaque RGB image."""
    # unsafe=False keeps cairosvg's XML parser refusing entities and external DTDs.
    tree = Tree(bytestring=svg, url_fetcher=_refuse_fetch, unsafe=False)
    surface = PNGSurface(tree, None, 96, output_width=width, output_height=height)
    cairo_surface = surface.cairo
    cairo_surface.flush()
    # Templates paint an opaque backdrop first, so dropping alpha loses nothing.
    image = Image.frombuffer(
        "RGB",
        (cairo_surface.get_width(), cairo_surface.get_height()),
        bytes(cairo_surface.get_data()),
        "raw",
        _CAIRO_RAW_MODE,
        cairo_surface.get_stride(),
        1,
    )
    cairo_surface.finish()
    return image


def resize(image: Image.Image, width: int, height: int) -> Image.Image:
    """A smaller rendition of `image` for a derived output size."""
    if image.size == (width, height):
        return image
    # reducing_gap lets Pillow first shrink by an integer factor, then Lanczos the rest.
    return image.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)


def encode(image: Image.Image, image_format: str, quality: int | None) -> bytes:
    """Encode `image`; no timestamps or other varying metadata, so bytes are reproducible."""
    buffer = io.BytesIO()
    if image_format == "png":
        image.save(buffer, "PNG", compress_level=PNG_COMPRESS_LEVEL)
    elif image_format == "webp":
        image.save(buffer, "WEBP", quality=quality, method=WEBP_METHOD)
    elif image_format == "jpeg":
        image.save(buffer, "JPEG", quality=quality)
    else:
        raise ValueError(f"unsupported image format {image_format!r}")
    return buffer.getvalue()
