"""SVG to pixels with cairosvg, pixels to smaller renditions with Pillow, and the checks of an
encoded image (each format's encoder is its entry in formats.py)."""

from __future__ import annotations

import contextvars
import io
import math
import sys
from collections import deque
from collections.abc import Mapping

import cairocffi
import pyvips
from cairosvg import defs as cairosvg_defs
from cairosvg import surface as cairosvg_surface
from cairosvg.helpers import size
from cairosvg.parser import Tree
from PIL import Image, UnidentifiedImageError

from renderfarm_dagster.formats import FORMATS
from renderfarm_dagster.render.svg_context_paint import ContextPaintSurface
from renderfarm_dagster.render.svg_filters import FilteringSurface
from renderfarm_dagster.render.svg_masking import MaskingSurface
from renderfarm_dagster.render.svg_patterns import draw_pattern

# cairo's ARGB32 is a native-endian 32-bit word; in memory that is B,G,R,A on little-endian.
_CAIRO_RAW_MODE = "BGRX" if sys.byteorder == "little" else "XRGB"

# Each render worker is one process per CPU: libvips' own thread pool would only oversubscribe
# the cores, and its operation cache would keep every encoded image's pixels alive.
pyvips.concurrency_set(1)
pyvips.cache_set_max(0)


# cairosvg draws a <path> by parsing its data (cairosvg.path.path, its TAGS entry); a path whose
# data is a known outline is appended from cairo's own copy instead. The table is cairosvg's
# module-level dispatch; tests/render/test_render.py fails if the fast path stops being taken.
_outlines: contextvars.ContextVar[Mapping[str, object] | None] = contextvars.ContextVar(
    "renderfarm_outlines", default=None
)
_parse_path = cairosvg_surface.TAGS["path"]


def _path_or_outline(surface, node) -> None:
    outline = (_outlines.get() or {}).get(node.get("d"))
    if outline is None:
        _parse_path(surface, node)
        return
    node.vertices = deque()  # no vertices: markers, which glyphs never have
    cairocffi.cairo.cairo_append_path(surface.context._pointer, outline)


cairosvg_surface.TAGS["path"] = _path_or_outline
# cairosvg paints a pattern through its module function; the farm's surfaces draw it with
# render/svg_patterns.py, at the output's scale (tests/render/test_design_tool_exports.py fails
# if this stops being used). Any other cairosvg drawing in the process keeps cairosvg's own.
_cairosvg_draw_pattern = cairosvg_defs.draw_pattern


def _draw_pattern(surface, node, name, opacity):
    if isinstance(surface, _Surface):
        return draw_pattern(surface, node, name, opacity)
    return _cairosvg_draw_pattern(surface, node, name, opacity)


cairosvg_defs.draw_pattern = _draw_pattern

# An <image> drawn larger than its pixels is first enlarged by Pillow (bicubic), as browsers and
# resvg smooth it: cairo's bilinear filter draws a small embedded logo blocky. The box it is
# drawn in, in device pixels, is handed to the fetcher, which enlarges what it returns.
_SMOOTH_ABOVE = 1.25
_MAX_ENLARGED_PX = 4096
_image_box: contextvars.ContextVar[tuple[float, float] | None] = contextvars.ContextVar(
    "renderfarm_image_box", default=None
)
_draw_image = cairosvg_surface.TAGS["image"]


def _image_smoothed(surface, node) -> None:
    if not isinstance(surface, _Surface) or node.get("image-rendering") in _CRISP:
        _draw_image(surface, node)
        return
    matrix = surface.context.get_matrix()
    box = (
        size(surface, node.get("width"), "x") * math.hypot(matrix.xx, matrix.yx),
        size(surface, node.get("height"), "y") * math.hypot(matrix.xy, matrix.yy),
    )
    token = _image_box.set(box)
    try:
        _draw_image(surface, node)
    finally:
        _image_box.reset(token)


_CRISP = frozenset({"optimizeSpeed", "pixelated", "crisp-edges"})
cairosvg_surface.TAGS["image"] = _image_smoothed


def _enlarged(data: bytes, box: tuple[float, float]) -> bytes:
    """`data` (an image) enlarged to about the box it fills, when that is more than
    _SMOOTH_ABOVE times its size; else as it is."""
    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
        scale = min(box[0] / width, box[1] / height) if box[0] and box[1] else 0
        if scale <= _SMOOTH_ABOVE:
            return data
        scale = min(scale, _MAX_ENLARGED_PX / max(width, height))
        size_ = (max(1, round(width * scale)), max(1, round(height * scale)))
        enlarged = image.convert("RGBA").resize(size_, Image.Resampling.BICUBIC)
    encoded = io.BytesIO()
    enlarged.save(encoded, "PNG", compress_level=1)
    return encoded.getvalue()


class _Surface(FilteringSurface, MaskingSurface, ContextPaintSurface):
    """cairosvg's PNG surface with what the farm draws where cairosvg does not: filters first,
    then clip paths, masks, opacity and blend modes, in SVG's order; context paints resolved."""


class ExternalResourceError(ValueError):
    """The SVG asked for something outside itself (a file, a URL, a data: image)."""


def rasterize(
    svg: bytes,
    width: int,
    height: int,
    images: Mapping[str, bytes] | None = None,
    outlines: Mapping[str, object] | None = None,
) -> Image.Image:
    """Draw `svg` at exactly `width` x `height` pixels, as an opaque RGB image.

    `images` are the only resources the document may load: PNG bytes by URL (`photo:<layer>`,
    see render/layout.py). Anything else it asks for is refused: the catalog layer hands over
    every photo, and the document loads nothing on its own.
    `outlines` maps a <path>'s data to the same shape as cairo's path (render/typeset.py): such
    a path is appended as it is instead of parsed from its text, the same shape in a fraction
    of the time (glyph outlines are most of a card's path data).
    """
    cairo_surface = _draw(svg, width, height, images, outlines, _Surface).cairo
    cairo_surface.flush()
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


def _draw(
    svg: bytes,
    width: int,
    height: int,
    images: Mapping[str, bytes] | None,
    outlines: Mapping[str, object] | None,
    surface_class: type[_Surface],
) -> _Surface:
    available = dict(images or {})
    known_outlines = _outlines.set(outlines or {})

    def fetch(url: str, resource_type: str) -> bytes:
        if url in available:
            box = _image_box.get()
            return _enlarged(available[url], box) if box else available[url]
        # Fail loudly instead of cairosvg's default of rendering a blank image.
        raise ExternalResourceError(f"refused to load external {resource_type} {url!r}")

    try:
        # unsafe=False keeps cairosvg's XML parser refusing entities and external DTDs.
        tree = Tree(bytestring=svg, url_fetcher=fetch, unsafe=False)
        # White under a template's transparent parts: the outputs are opaque.
        return surface_class(
            tree, None, 96, output_width=width, output_height=height, background_color="#ffffff"
        )
    finally:
        _outlines.reset(known_outlines)


# What a document can make cairosvg raise while drawing it: values it cannot parse (ValueError),
# a singular matrix or a negative dash (CairoError), references that nest without end
# (RecursionError), and their kin. Failures of the farm itself (memory, files) are not among them.
DRAWING_ERRORS = (
    ValueError,
    TypeError,
    ArithmeticError,
    LookupError,
    AttributeError,
    RecursionError,
    cairocffi.CairoError,
)


# The elements a trial drawing failed at, innermost first (per thread: templates are
# validated in the sensor's threads).
_failed_at: contextvars.ContextVar[list] = contextvars.ContextVar("renderfarm_failed_at")


class _TracingSurface(_Surface):
    """A _Surface that records the elements it was drawing when drawing failed (an element
    drawn through a pattern or mask is reported as the element using it)."""

    def draw(self, node) -> None:
        try:
            super().draw(node)
        except DRAWING_ERRORS:
            _failed_at.get().append(node)
            raise


def drawing_failure(
    svg: bytes,
    width: int,
    height: int,
    images: Mapping[str, bytes] | None = None,
    outlines: Mapping[str, object] | None = None,
) -> tuple[dict, str] | None:
    """Draw `svg` as a trial at `width` x `height`: None if it draws, else the attributes of the
    innermost element it failed at (cairosvg's node, a dict) and the error."""
    failed_at: list = []
    token = _failed_at.set(failed_at)
    try:
        _draw(svg, width, height, images, outlines, _TracingSurface).cairo.finish()
    except DRAWING_ERRORS as error:
        reason = "references nest without end" if isinstance(error, RecursionError) else error
        return (failed_at[0] if failed_at else {}), f"{type(error).__name__}: {reason}"
    finally:
        _failed_at.reset(token)
    return None


def resize(image: Image.Image, width: int, height: int) -> Image.Image:
    """A smaller rendition of `image` for a derived output size."""
    if image.size == (width, height):
        return image
    if image.size == (2 * width, 2 * height):
        # An exact halving averages each 2x2 block: the drawing is then a 4-sample
        # antialiased render of the smaller size. Ten times faster than Lanczos and within
        # 0.3 of 255 of it on average (tests/test_bench.py bounds the difference).
        return image.reduce(2)
    # reducing_gap lets Pillow first shrink by an integer factor, then Lanczos the rest.
    return image.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)


class EncodedOutputError(RuntimeError):
    """An encoding that is not the format or size asked for: an encoder fault, never stored."""


def is_blank(image: Image.Image) -> bool:
    """Whether `image` is a single flat colour.

    getcolors stops at the second colour it meets, so a drawn card answers within its first
    rows (0.1 ms a variant, against 4.6 ms for getextrema's full pass: bench/).
    """
    return image.getcolors(1) is not None


def encoded_problems(
    data: bytes, image_format: str, width: int, height: int, *, pixels: bool
) -> list[str]:
    """Whether `data` is an `image_format` image of `width` x `height`; each problem as a
    phrase ("is 17x17, expected 200x200").

    Without `pixels`, only the header is parsed and the file's structure held to its end (the
    format's `complete`; 0.2 ms a variant): enough for bytes the encoder has just produced
    from a rendition known not to be blank. With `pixels`, every
    pixel is decoded and the image must show more than one colour: for bytes of unknown
    origin, such as a stored object whose sha256 is not the one rendered.
    """
    expected = FORMATS.get(image_format)
    if expected is not None and not expected.complete(data):
        return [f"is cut short or has bytes after its end ({len(data)} bytes)"]
    try:
        with Image.open(io.BytesIO(data)) as image:
            problems = []
            if expected is None or image.format != expected.pillow_format:
                problems.append(f"decodes as {image.format}, expected {image_format}")
            if image.size != (width, height):
                problems.append(f"is {image.width}x{image.height}, expected {width}x{height}")
            if pixels:
                image.load()
                if is_blank(image):
                    problems.append("is blank (a single flat colour)")
            return problems
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        return [f"does not decode: {error}"]
