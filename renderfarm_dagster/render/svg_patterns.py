"""Pattern fills and strokes as SVG defines them. cairosvg draws a pattern's tile at the design's
size and maps it with a matrix that forgets the output's scale, so that at any size but the
design's the tiles are out of phase and blurred (a texture in a template is drawn wrong in
every output), and it rewrites the pattern's definition as it draws it (a second use differs).

Here the tile is drawn at the device resolution of the element it paints, through the same
surface (so filters, masks and text in a tile are drawn as anywhere else), and repeated by cairo
from the tile's origin in user space, sampled as resvg samples it: patternUnits,
patternContentUnits, viewBox with preserveAspectRatio, x/y and patternTransform as SVG has
them. A tile is at most MAX_TILE_PX pixels a side: a larger one is drawn at a lower resolution,
bounded in memory.
"""

from __future__ import annotations

import math

import cairocffi
from cairosvg.bounding_box import calculate_bounding_box
from cairosvg.helpers import size, transform

from renderfarm_dagster.render.surface_pixels import drawing_onto
from renderfarm_dagster.render.svg_document import floats

MAX_TILE_PX = 4096


def draw_pattern(surface, node, name: str, opacity: float) -> bool:
    """Set the pattern `name` as the source to paint `node` with; False paints nothing (a
    pattern of no size, or sized by a bounding box the element does not have)."""
    pattern = surface.patterns[name]
    box = None
    if "objectBoundingBox" in (
        pattern.get("patternUnits", "objectBoundingBox"),
        pattern.get("patternContentUnits"),
    ):
        box = calculate_bounding_box(surface, node)
        if not box or box[2] <= 0 or box[3] <= 0:
            return False
    tile = _tile(surface, pattern, box)
    if tile is None:
        return False
    user = surface.context.get_matrix()
    placement = cairocffi.Matrix()
    if pattern.get("patternTransform"):
        surface.context.save()
        surface.context.identity_matrix()
        transform(surface, pattern.get("patternTransform"))
        placement = surface.context.get_matrix()
        surface.context.restore()
    surface.context.set_source(
        _repeated_tile(surface, pattern, box, tile, placement, user, opacity)
    )
    return True


def _repeated_tile(surface, pattern, box, tile, placement, user, opacity):
    """One tile drawn at the device resolution (rounded up to whole pixels) and repeated by
    cairo, sampled without smoothing as resvg samples it: edges that fall between pixels stay
    crisp, as in browsers."""
    x, y, width, height = tile
    to_device = placement.multiply(user)
    scale_x = math.hypot(to_device.xx, to_device.yx)
    scale_y = math.hypot(to_device.xy, to_device.yy)
    pixels_x = max(1, min(MAX_TILE_PX, math.ceil(width * scale_x)))
    pixels_y = max(1, min(MAX_TILE_PX, math.ceil(height * scale_y)))
    image = cairocffi.ImageSurface(cairocffi.FORMAT_ARGB32, pixels_x, pixels_y)
    context = cairocffi.Context(image)
    context.scale(pixels_x / width, pixels_y / height)
    _draw_content(surface, pattern, context, box, width, height, opacity)
    image.flush()
    source = cairocffi.SurfacePattern(image)
    source.set_extend(cairocffi.EXTEND_REPEAT)
    # User space to tile pixels: undo patternTransform, move to the tile's origin, scale.
    inverse = cairocffi.Matrix(*placement.as_tuple())
    inverse.invert()
    source.set_matrix(
        inverse.multiply(cairocffi.Matrix(x0=-x, y0=-y)).multiply(
            cairocffi.Matrix(xx=pixels_x / width, yy=pixels_y / height)
        )
    )
    return source


def _tile(surface, pattern, box) -> tuple[float, float, float, float] | None:
    """The tile's x, y, width and height in the element's user space."""
    names = ("x", "y", "width", "height")
    if pattern.get("patternUnits") == "userSpaceOnUse":
        x, y, width, height = (
            size(surface, pattern.get(name, "0"), axis)
            for name, axis in zip(names, ("x", "y", "x", "y"), strict=True)
        )
    else:
        fractions = [size(surface, pattern.get(name, "0"), 1) for name in names]
        x = box[0] + fractions[0] * box[2]
        y = box[1] + fractions[1] * box[3]
        width, height = fractions[2] * box[2], fractions[3] * box[3]
    if width <= 0 or height <= 0:
        return None
    return x, y, width, height


def _draw_content(surface, pattern, context, box, width: float, height: float, opacity: float):
    """The pattern's children drawn into the tile's `context` (in tile units), through the
    element's own surface."""
    view_box = floats(pattern.get("viewBox"), 4)
    if view_box is not None and view_box[2] > 0 and view_box[3] > 0:
        _fit(context, view_box, pattern.get("preserveAspectRatio", "xMidYMid meet"), width, height)
    elif pattern.get("patternContentUnits") == "objectBoundingBox":
        context.scale(box[2], box[3])
    with drawing_onto(surface, context):
        if opacity < 1:
            context.push_group()
        for child in pattern.children:
            surface.draw(child)
        if opacity < 1:
            context.pop_group_to_source()
            context.paint_with_alpha(opacity)


_ALIGN = {"min": 0.0, "mid": 0.5, "max": 1.0}


def _fit(context, view_box, aspect: str, width: float, height: float) -> None:
    """Map the viewBox onto the tile as preserveAspectRatio says."""
    x, y, view_width, view_height = view_box
    scale_x, scale_y = width / view_width, height / view_height
    align, _, mode = aspect.strip().partition(" ")
    offset_x = offset_y = 0.0
    if align != "none":
        scale_x = scale_y = (max if mode.strip() == "slice" else min)(scale_x, scale_y)
        offset_x = (width - view_width * scale_x) * _ALIGN.get(align[1:4].lower(), 0.5)
        offset_y = (height - view_height * scale_y) * _ALIGN.get(align[5:8].lower(), 0.5)
    context.translate(offset_x - x * scale_x, offset_y - y * scale_y)
    context.scale(scale_x, scale_y)
