"""SVG filter effects, which cairosvg leaves undrawn: the primitives design tools write for
shadows and tints, drawn on the element's pixels with cairo's own compositing operators, Pillow's
blur and libvips' colour matrices.

An element with a filter is drawn alone onto a surface of its own; the filter region (SVG's
default: the element's bounding box grown by 10% each side) is cut out of that drawing, the
primitives run on it in device pixels, and the result is painted where the element would have
been, with the element's opacity. Colours are interpolated in linearRGB unless the filter says
sRGB (as Figma's and Inkscape's do), like browsers and resvg.

Cost is bounded whatever the document says: the work area is the output grown by at most
_MAX_MARGIN_PX, a blur's cost does not grow with its radius (Pillow's is three box blurs), a
filter holds at most MAX_FILTER_PRIMITIVES primitives, and one drawing applies at most
MAX_FILTERED_DRAWS filters (reuse through <use> included).

Deliberate differences from the specification (docs/templates-and-specs.md): BackgroundImage
is transparent, as in browsers; FillPaint and StrokePaint (dropped from Filter Effects) are the
element's drawing, as resvg reads them.
"""

from __future__ import annotations

import copy
import math

import cairocffi
import pyvips
from cairosvg.colors import color
from cairosvg.helpers import size, transform
from cairosvg.surface import PNGSurface
from cairosvg.url import parse_url
from PIL import Image, ImageFilter

from renderfarm_dagster.render.surface_pixels import (
    BLEND_MODES,
    TO_LINEAR,
    TO_SRGB,
    blank,
    composited,
    converted,
    drawing_onto,
    from_pillow,
    from_vips_rgba,
    paint,
    pillow_view,
    vips_rgba,
)
from renderfarm_dagster.render.svg_document import (
    FILTER_PRIMITIVES,
    MAX_FILTER_PRIMITIVES,
    MAX_FILTERED_DRAWS,
)
from renderfarm_dagster.render.svg_masking import element_bounding_box

# How far beyond the output the work area reaches, so that what lies just outside still blurs
# into view: three standard deviations, at most this.
_MAX_MARGIN_PX = 256

_OPERATORS = {
    "over": cairocffi.OPERATOR_OVER,
    "in": cairocffi.OPERATOR_IN,
    "out": cairocffi.OPERATOR_OUT,
    "atop": cairocffi.OPERATOR_ATOP,
    "xor": cairocffi.OPERATOR_XOR,
    "lighter": cairocffi.OPERATOR_ADD,
}
# What a filter may name as an input that the farm does not have: transparent, as in browsers.
_TRANSPARENT_INPUTS = frozenset({"BackgroundImage", "BackgroundAlpha"})
# Dropped from Filter Effects; read as the element's own drawing, as resvg reads them.
_SOURCE_INPUTS = frozenset({"SourceGraphic", "FillPaint", "StrokePaint"})


class FilterError(ValueError):
    """A filter that cannot be drawn within the limits."""


class FilteringSurface(PNGSurface):
    """cairosvg's PNG surface, drawing the filters of FILTER_PRIMITIVES (see above)."""

    filtered_draws = 0

    def draw(self, node) -> None:
        name = parse_url(node.get("filter")).fragment if node.get("filter") else None
        filter_node = _inheriting(self.filters, self.filters.get(name)) if name else None
        if filter_node is None:
            super().draw(node)
            return
        self.filtered_draws += 1
        if self.filtered_draws > MAX_FILTERED_DRAWS:
            raise FilterError(f"more than {MAX_FILTERED_DRAWS} filtered elements in one drawing")
        if "clip-path" in node or "mask" in node:
            # SVG clips and masks after the filter: the element is drawn filtered inside a group
            # that carries its transform, clip path, mask and opacity.
            self.draw(_clipped_around(node))
            self.filtered_draws -= 1
            return
        # Drawn alone without them; the filter runs on the drawing, the opacity applies to its
        # result (as SVG orders them).
        kept = {key: node.pop(key) for key in ("filter", "opacity") if key in node}
        try:
            self._draw_filtered(node, filter_node, float(kept.get("opacity", 1)))
        finally:
            node.update(kept)

    def _draw_filtered(self, node, filter_node, opacity: float) -> None:
        self.context.save()
        transform(self, node.get("transform"), transform_origin=node.get("transform-origin"))
        matrix = self.context.get_matrix()
        self.context.restore()
        primitives = [child for child in filter_node.children if child.tag in FILTER_PRIMITIVES]
        if len(primitives) > MAX_FILTER_PRIMITIVES:
            raise FilterError(f"a filter of more than {MAX_FILTER_PRIMITIVES} primitives")
        if not primitives:
            return  # an empty filter draws nothing, by the specification
        margin = min(_MAX_MARGIN_PX, math.ceil(3 * _largest_blur(self, primitives, matrix)))
        area = (
            -margin,
            -margin,
            self.cairo.get_width() + 2 * margin,
            self.cairo.get_height() + 2 * margin,
        )
        source = self._draw_alone(node, area)
        box = element_bounding_box(self, node) or _drawn_box(source, area, matrix)
        if box is None:
            return
        filter_region = _filter_region(self, filter_node, box)
        region = _device_rectangle(filter_region, matrix, area)
        if region is None:
            return
        x, y, width, height = region
        cut = blank(width, height)
        paint(cut, source, area[0] - x, area[1] - y)
        by_box = filter_node.get("primitiveUnits") == "objectBoundingBox"
        cut_matrix = matrix.multiply(cairocffi.Matrix(x0=-x, y0=-y))
        result = _Chain(self, cut, cut_matrix, box if by_box else None, filter_region).run(
            primitives
        )
        self.context.save()
        self.context.identity_matrix()
        self.context.set_source_surface(result, x, y)
        self.context.paint_with_alpha(opacity)
        self.context.restore()

    def _draw_alone(self, node, area: tuple[int, int, int, int]) -> cairocffi.ImageSurface:
        """The element drawn without its filter onto a surface of its own covering `area`."""
        surface = blank(area[2], area[3])
        context = cairocffi.Context(surface)
        context.translate(-area[0], -area[1])
        context.transform(self.context.get_matrix())
        with drawing_onto(self, context):
            super().draw(node)
        surface.flush()
        return surface


def _own(node, name: str, default: str) -> str:
    """A property that is not inherited (flood-color, flood-opacity) as the element declares
    it: cairosvg copies every attribute of the parents into each element; "inherit" takes the
    parent's."""
    element = getattr(node, "xml_tree", None)
    if element is None:
        return node.get(name, default)
    declared = element.get(name)
    for declaration in (element.get("style") or "").split(";"):
        key, colon, value = declaration.partition(":")
        if colon and key.strip() == name:
            declared = value.strip()
    if declared is None:
        return default
    return node.get(name, default) if declared == "inherit" else declared


_INHERITED = ("x", "y", "width", "height", "filterUnits", "primitiveUnits")


def _inheriting(filters: dict, filter_node):
    """The filter with what it takes from the filters its href names (its region, units and,
    when it has none, their primitives), as SVG says; a chain is followed 8 deep at most."""
    if filter_node is None or not filter_node.get_href():
        return filter_node
    merged = copy.copy(filter_node)
    referenced, seen = filter_node, {id(filter_node)}
    for _ in range(8):
        href = referenced.get_href()
        referenced = filters.get(parse_url(href).fragment) if href else None
        if referenced is None or id(referenced) in seen:
            break
        seen.add(id(referenced))
        for name in _INHERITED:
            if name not in merged and name in referenced:
                merged[name] = referenced[name]
        if not merged.children:
            merged.children = referenced.children
    return merged


_AFTER_FILTER = ("transform", "transform-origin", "clip-path", "mask", "opacity")


def _clipped_around(node):
    """A group holding the element: the group has what applies after the filter, the element
    keeps the rest."""
    inner = copy.copy(node)
    for name in _AFTER_FILTER:
        inner.pop(name, None)
    group = copy.copy(node)
    group.clear()
    group.update({name: node[name] for name in _AFTER_FILTER if name in node})
    group.tag = "g"
    group.children = [inner]
    return group


class _Chain:
    """The primitives of one filter run on one cut of pixels, results by name."""

    def __init__(self, drawing, source, matrix, box, region):
        self.drawing = drawing
        self.source = source
        self.matrix = matrix  # element units to the cut's pixels
        self.box = box  # the bounding box, for primitiveUnits="objectBoundingBox"
        self.region = region  # the filter region, in element units
        self.results: dict[str, cairocffi.ImageSurface] = {}
        self.previous = source
        self.width, self.height = source.get_width(), source.get_height()

    def run(self, primitives) -> cairocffi.ImageSurface:
        for primitive in primitives:
            linear = primitive.get("color-interpolation-filters", "linearRGB") != "sRGB"
            result = self.within_subregion(
                primitive, getattr(self, primitive.tag)(primitive, linear)
            )
            self.previous = result
            if primitive.get("result"):
                self.results[primitive["result"]] = result
        return self.previous

    def input(self, primitive, attribute: str = "in", linear: bool = False):
        name = primitive.get(attribute)
        if name in _SOURCE_INPUTS:
            image = self.source
        elif name == "SourceAlpha":
            image = _alpha(self.source)
        elif name in _TRANSPARENT_INPUTS:
            image = blank(self.width, self.height)
        else:
            image = self.results.get(name, self.previous) if name else self.previous
        return converted(image, TO_LINEAR) if linear else image

    def output(self, image, linear: bool):
        return converted(image, TO_SRGB) if linear else image

    def length(self, value, axis: int) -> float:
        """A length of the filter, in the element's units (objectBoundingBox: a fraction)."""
        number = size(self.drawing, value, 1)
        return number * self.box[2 + axis] if self.box else number

    def within_subregion(self, primitive, image):
        """The result cut to the primitive's own x, y, width and height, where it sets any
        (each one it leaves out is the filter region's)."""
        if not any(key in primitive for key in ("x", "y", "width", "height")):
            return image
        bounds = list(self.region)
        for index, key in enumerate(("x", "y", "width", "height")):
            if key not in primitive:
                continue
            if self.box:
                start = self.box[index] if index < 2 else 0
                bounds[index] = (
                    start + size(self.drawing, primitive[key], 1) * self.box[2 + index % 2]
                )
            else:
                bounds[index] = size(self.drawing, primitive[key], "xy"[index % 2])
        result = blank(self.width, self.height)
        context = cairocffi.Context(result)
        context.set_matrix(self.matrix)
        context.rectangle(*bounds)
        context.identity_matrix()
        context.clip()
        context.set_source_surface(image, 0, 0)
        context.paint()
        result.flush()
        return result

    def feFlood(self, primitive, linear):
        result = blank(self.width, self.height)
        context = cairocffi.Context(result)
        context.set_source_rgba(
            *color(
                _own(primitive, "flood-color", "black"),
                float(_own(primitive, "flood-opacity", "1")),
            )
        )
        context.paint()
        return result

    def feOffset(self, primitive, linear):
        dx, dy = self.matrix.transform_distance(
            self.length(primitive.get("dx", 0), 0), self.length(primitive.get("dy", 0), 1)
        )
        result = blank(self.width, self.height)
        paint(result, self.input(primitive), dx, dy)
        return result

    def feGaussianBlur(self, primitive, linear):
        sx, sy = self.deviations(primitive.get("stdDeviation", "0"))
        return self.output(_blurred(self.input(primitive, linear=linear), sx, sy), linear)

    def deviations(self, text: str) -> tuple[float, float]:
        parts = text.replace(",", " ").split()
        if not 1 <= len(parts) <= 2:
            raise FilterError(f"stdDeviation {text!r} is not one or two numbers")
        sx = self.length(parts[0], 0)
        sy = self.length(parts[-1], 1)
        m = self.matrix
        return sx * math.hypot(m.xx, m.yx), sy * math.hypot(m.xy, m.yy)

    def feComposite(self, primitive, linear):
        operator = primitive.get("operator", "over")
        top = self.input(primitive, linear=linear)
        bottom = self.input(primitive, "in2", linear=linear)
        if operator == "arithmetic":
            k1, k2, k3, k4 = (float(primitive.get(f"k{i}", 0)) for i in range(1, 5))
            return self.output(_arithmetic(top, bottom, k1, k2, k3, k4), linear)
        if operator not in _OPERATORS:
            raise FilterError(
                f"feComposite operator {operator!r} is not one of {sorted(_OPERATORS)}"
            )
        return self.output(composited(bottom, top, _OPERATORS[operator]), linear)

    def feBlend(self, primitive, linear):
        mode = primitive.get("mode", "normal")
        if mode not in BLEND_MODES:
            raise FilterError(f"feBlend mode {mode!r} is not one of {sorted(BLEND_MODES)}")
        top = self.input(primitive, linear=linear)
        bottom = self.input(primitive, "in2", linear=linear)
        return self.output(composited(bottom, top, BLEND_MODES[mode]), linear)

    def feMerge(self, primitive, linear):
        result = blank(self.width, self.height)
        for node in primitive.children:
            if node.tag == "feMergeNode":
                paint(result, self.input(node, linear=linear), 0, 0)
        return self.output(result, linear)

    def feColorMatrix(self, primitive, linear):
        matrix = _color_matrix(primitive.get("type", "matrix"), primitive.get("values"))
        return self.output(_recombined(self.input(primitive, linear=linear), matrix), linear)

    def feDropShadow(self, primitive, linear):
        image = self.input(primitive, linear=linear)
        sx, sy = self.deviations(primitive.get("stdDeviation", "2"))
        dx, dy = self.matrix.transform_distance(
            self.length(primitive.get("dx", 2), 0), self.length(primitive.get("dy", 2), 1)
        )
        shadow = blank(self.width, self.height)
        paint(shadow, _blurred(_alpha(image), sx, sy), dx, dy)
        flood = self.feFlood(primitive, linear)
        if linear:  # the shadow is composed in linearRGB, its colour too
            flood = converted(flood, TO_LINEAR)
        shadow = composited(shadow, flood, cairocffi.OPERATOR_IN)
        paint(shadow, image, 0, 0)
        return self.output(shadow, linear)


def _largest_blur(drawing, primitives, matrix) -> float:
    """The largest blur deviation of a filter in device pixels (for the work area's margin;
    objectBoundingBox units are not known yet and count as the output's size)."""
    largest = 0.0
    scale = max(math.hypot(matrix.xx, matrix.yx), math.hypot(matrix.xy, matrix.yy))
    for primitive in primitives:
        text = primitive.get("stdDeviation")
        if text is None:
            continue
        for part in text.replace(",", " ").split():
            largest = max(largest, abs(size(drawing, part, 1)) * scale)
    return largest


def _filter_region(drawing, filter_node, box) -> tuple[float, float, float, float]:
    """The filter region in the element's units: x, y, width, height."""
    x, y, width, height = box
    if filter_node.get("filterUnits") == "userSpaceOnUse":
        return (
            size(drawing, filter_node.get("x", "-10%"), "x"),
            size(drawing, filter_node.get("y", "-10%"), "y"),
            size(drawing, filter_node.get("width", "120%"), "x"),
            size(drawing, filter_node.get("height", "120%"), "y"),
        )
    return (
        x + size(drawing, filter_node.get("x", "-10%"), 1) * width,
        y + size(drawing, filter_node.get("y", "-10%"), 1) * height,
        size(drawing, filter_node.get("width", "120%"), 1) * width,
        size(drawing, filter_node.get("height", "120%"), 1) * height,
    )


def _device_rectangle(rectangle, matrix, area) -> tuple[int, int, int, int] | None:
    """The whole pixels covering `rectangle` (element units) within `area`, or None if empty."""
    x, y, width, height = rectangle
    if width <= 0 or height <= 0:
        return None
    corners = [matrix.transform_point(cx, cy) for cx in (x, x + width) for cy in (y, y + height)]
    left = max(area[0], math.floor(min(px for px, _ in corners)))
    top = max(area[1], math.floor(min(py for _, py in corners)))
    right = min(area[0] + area[2], math.ceil(max(px for px, _ in corners)))
    bottom = min(area[1] + area[3], math.ceil(max(py for _, py in corners)))
    if right <= left or bottom <= top:
        return None
    return left, top, right - left, bottom - top


def _drawn_box(surface, area, matrix) -> tuple[float, float, float, float] | None:
    """Where the element's pixels are, in its own units: the bounding box of what cairosvg
    cannot measure (text, images)."""
    box = pillow_view(surface).getchannel("A").getbbox()
    if box is None:
        return None
    inverse = cairocffi.Matrix(*matrix.as_tuple())
    inverse.invert()
    corners = [
        inverse.transform_point(area[0] + px, area[1] + py)
        for px in (box[0], box[2])
        for py in (box[1], box[3])
    ]
    left, top = min(c[0] for c in corners), min(c[1] for c in corners)
    return left, top, max(c[0] for c in corners) - left, max(c[1] for c in corners) - top


def _alpha(image) -> cairocffi.ImageSurface:
    """Black with the image's alpha (SVG's SourceAlpha)."""
    result = blank(image.get_width(), image.get_height())
    context = cairocffi.Context(result)
    context.set_source_rgb(0, 0, 0)
    context.mask_surface(image, 0, 0)
    result.flush()
    return result


def _blurred(surface, sx: float, sy: float) -> cairocffi.ImageSurface:
    """A Gaussian blur of deviations `sx`, `sy` (pixels), transparent beyond the edges. Pillow's
    is three box blurs, as the specification suggests: its cost does not grow with the radius."""
    if sx <= 0 and sy <= 0:
        return surface
    if sx < 0 or sy < 0:
        raise FilterError("a negative stdDeviation")
    image = pillow_view(surface)
    # A shadow's pixels are black (SourceAlpha and what is made of it): only their alpha is
    # blurred, a quarter of the work.
    colourless = all(image.getchannel(band).getbbox() is None for band in "RGB")
    if colourless:
        image = image.getchannel("A")
    # Pillow's blur repeats the edge pixels beyond the edge: one transparent pixel around makes
    # that transparency, whatever the radius.
    padded = Image.new(image.mode, (image.width + 2, image.height + 2))
    padded.paste(image, (1, 1))
    blurred = padded.filter(ImageFilter.GaussianBlur((sx, sy)))
    blurred = blurred.crop((1, 1, 1 + image.width, 1 + image.height))
    if colourless:
        return _black_with_alpha(blurred)
    return from_pillow(blurred)


def _black_with_alpha(alpha: Image.Image) -> cairocffi.ImageSurface:
    black = Image.new("L", alpha.size)
    return from_pillow(Image.merge("RGBA", (black, black, black, alpha)))


def _clamped(image: pyvips.Image) -> pyvips.Image:
    """Values within 0-255 and colours within their alpha: valid premultiplied pixels."""
    image = (image < 0).ifthenelse(0, (image > 255).ifthenelse(255, image))
    colours, alpha = image[0:3], image[3]
    colours = (colours > alpha).ifthenelse(alpha, colours)
    return colours.bandjoin(alpha)


def _arithmetic(top, bottom, k1, k2, k3, k4) -> cairocffi.ImageSurface:
    """feComposite's arithmetic operator on premultiplied values, as the specification has it."""
    i1, i2 = vips_rgba(top) / 255, vips_rgba(bottom) / 255
    result = (i1 * i2 * k1 + i1 * k2 + i2 * k3 + k4) * 255
    return from_vips_rgba(_clamped(result))


def _recombined(surface, matrix: list[list[float]]) -> cairocffi.ImageSurface:
    """A 4x5 colour matrix applied to the unpremultiplied colours (values 0-1)."""
    if all(value == 0 for row in matrix[:3] for value in row) and not any(matrix[3][:3]):
        # Black, its alpha a function of the alpha alone: how Figma makes a shadow's "hard
        # alpha" and sets its opacity. An eight-bit table instead of float arithmetic.
        scale, offset = matrix[3][3], matrix[3][4]
        table = [round(max(0.0, min(1.0, scale * a / 255 + offset)) * 255) for a in range(256)]
        return _black_with_alpha(pillow_view(surface).getchannel("A").point(table))
    image = vips_rgba(surface)
    straight = image.unpremultiply() / 255
    linear = straight.recomb([row[:4] for row in matrix])
    result = (linear + [row[4] for row in matrix]) * 255
    return from_vips_rgba(result.clamp(min=0, max=255).premultiply())


def _color_matrix(kind: str, values: str | None) -> list[list[float]]:
    """feColorMatrix's matrix (4 rows of 5) for its type and values."""
    numbers = [float(v) for v in (values or "").replace(",", " ").split()]
    identity = [[1.0 if c == r else 0.0 for c in range(5)] for r in range(4)]
    if kind == "matrix":
        if values is None:
            return identity
        if len(numbers) != 20:
            raise FilterError(f"feColorMatrix values hold {len(numbers)} numbers, not 20")
        return [numbers[r * 5 : r * 5 + 5] for r in range(4)]
    if kind == "saturate":
        s = numbers[0] if numbers else 1.0
        return [
            [0.213 + 0.787 * s, 0.715 - 0.715 * s, 0.072 - 0.072 * s, 0, 0],
            [0.213 - 0.213 * s, 0.715 + 0.285 * s, 0.072 - 0.072 * s, 0, 0],
            [0.213 - 0.213 * s, 0.715 - 0.715 * s, 0.072 + 0.928 * s, 0, 0],
            [0, 0, 0, 1, 0],
        ]
    if kind == "hueRotate":
        angle = math.radians(numbers[0] if numbers else 0.0)
        c, s = math.cos(angle), math.sin(angle)
        return [
            [0.213 + c * 0.787 - s * 0.213, 0.715 - c * 0.715 - s * 0.715,
             0.072 - c * 0.072 + s * 0.928, 0, 0],
            [0.213 - c * 0.213 + s * 0.143, 0.715 + c * 0.285 + s * 0.140,
             0.072 - c * 0.072 - s * 0.283, 0, 0],
            [0.213 - c * 0.213 - s * 0.787, 0.715 - c * 0.715 + s * 0.715,
             0.072 + c * 0.928 + s * 0.072, 0, 0],
            [0, 0, 0, 1, 0],
        ]  # fmt: skip
    if kind == "luminanceToAlpha":
        return [[0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0.2125, 0.7154, 0.0721, 0, 0]]
    raise FilterError(
        f"feColorMatrix type {kind!r} is not matrix, saturate, hueRotate or luminanceToAlpha"
    )
