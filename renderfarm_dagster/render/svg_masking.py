"""Masks, clip paths and blend modes as SVG and CSS define them, where cairosvg differs: it applies
a mask by its alpha (SVG's default is its luminance), sizes a mask's region by the element's
x/y/width/height instead of its bounding box, clips with one fill rule for every child, ignores a
`clip-path` on a clip path or on its children, and ignores `mix-blend-mode`.

An element with a mask, a blend mode, `isolation: isolate` or a clip path cairosvg cannot draw is
drawn into a group;
its coverage (clip paths and masks, each in device pixels) is computed apart, and the group is
painted through that coverage with the element's opacity and blend mode. Other elements take
cairosvg's own path, unchanged.
"""

from __future__ import annotations

import copy

import cairocffi
import pyvips
from cairosvg.bounding_box import calculate_bounding_box
from cairosvg.helpers import size, transform
from cairosvg.parser import Tree
from cairosvg.surface import PNGSurface
from cairosvg.url import parse_url

from renderfarm_dagster.render.surface_pixels import BLEND_MODES, blank, drawing_onto, paint
from renderfarm_dagster.render.svg_document import MARKER_PROPERTIES, SHAPES, TEXT_OUTLINES

# What a clip path may hold (SVG: shapes, text, and <use> of those); text arrives as a group of
# outlines marked TEXT_OUTLINES (render/static_text.py).
# Luminance from sRGB values (SVG's mask default), applied to B, G, R as stored.
_LUMINANCE = [[0.0721, 0.7154, 0.2125, 0.0]]


def element_bounding_box(surface, node) -> tuple[float, float, float, float] | None:
    """The element's bounding box in its own user space (x, y, width, height): a shape's exact
    fill extents from cairo (cairosvg counts a curve's control points), else cairosvg's."""
    if node.tag in SHAPES and not node.children and not any(m in node for m in MARKER_PROPERTIES):
        scratch = cairocffi.Context(cairocffi.ImageSurface(cairocffi.FORMAT_A8, 1, 1))
        scratch.set_matrix(surface.context.get_matrix())
        surface.stroke_and_fill = False
        try:
            with drawing_onto(surface, scratch):
                PNGSurface.draw(surface, node)  # the path alone, as cairosvg draws a clip path
                scratch.save()
                transform(
                    surface, node.get("transform"), transform_origin=node.get("transform-origin")
                )
                left, top, right, bottom = scratch.path_extents()
                scratch.restore()
        finally:
            surface.stroke_and_fill = True
        if right > left or bottom > top:
            return left, top, right - left, bottom - top
    return calculate_bounding_box(surface, node)


def _referenced(definitions: dict, value: str | None):
    return definitions.get(parse_url(value).fragment) if value else None


def _needs_own_clip(clip) -> bool:
    """Whether cairosvg would draw this clip path wrong: a clip path on it or on a child, a
    child's even-odd rule, text, or anything but a plain shape."""
    if clip.get("clip-path") or clip.get("transform"):
        return True
    return any(
        child.tag not in SHAPES
        or child.get("clip-path")
        or child.get("clip-rule") == "evenodd"
        or child.get("transform")
        for child in clip.children
    )


class MaskingSurface(PNGSurface):
    """cairosvg's PNG surface, drawing masks, clip paths and blend modes as SVG does."""

    def draw(self, node) -> None:
        mask = _referenced(self.masks, node.get("mask"))
        clip = _referenced(self.paths, node.get("clip-path"))
        own_clip = clip is not None and _needs_own_clip(clip)
        blend = BLEND_MODES.get(node.get("mix-blend-mode", "normal"), cairocffi.OPERATOR_OVER)
        # An isolated group: what blends inside it blends with the group's content only.
        isolated = node.get("isolation") == "isolate"
        # cairosvg applies an element's opacity to its own paint when it has no children: a
        # <use> (whose content is drawn apart) would lose it.
        isolated = isolated or (node.tag == "use" and float(node.get("opacity", 1)) < 1)
        if mask is None and not own_clip and blend == cairocffi.OPERATOR_OVER and not isolated:
            super().draw(node)
            return
        taken = ["mask", "opacity", "mix-blend-mode", *(["clip-path"] if own_clip else [])]
        kept = {key: node.pop(key) for key in taken if key in node}
        try:
            self._draw_through(node, clip if own_clip else None, mask, kept, blend)
        finally:
            node.update(kept)

    def _draw_through(self, node, clip, mask, kept, blend) -> None:
        self.context.push_group()
        super().draw(node)
        group = self.context.pop_group()
        opacity = float(kept.get("opacity", 1))
        coverage = None
        if clip is not None or mask is not None:
            matrix = self._element_matrix(node)
            box = element_bounding_box(self, node)
            if clip is not None:
                coverage = self._clip_coverage(clip, matrix, box)
            if mask is not None:
                masked = self._mask_coverage(mask, matrix, box)
                coverage = masked if coverage is None else _intersection(coverage, masked)
        self.context.save()
        self.context.set_source(group)  # locked to the user space it was drawn in
        self.context.set_operator(blend)
        self.context.identity_matrix()
        if coverage is None:
            self.context.paint_with_alpha(opacity)
        elif opacity < 1:
            self.context.push_group()
            self.context.set_source_surface(coverage, 0, 0)
            self.context.paint_with_alpha(opacity)
            faded = self.context.pop_group()
            self.context.set_source(group)
            self.context.mask(faded)
        else:
            self.context.mask_surface(coverage, 0, 0)
        self.context.restore()

    def _element_matrix(self, node) -> cairocffi.Matrix:
        """The element's user space (its transform applied) to device pixels."""
        self.context.save()
        transform(self, node.get("transform"), transform_origin=node.get("transform-origin"))
        matrix = self.context.get_matrix()
        self.context.restore()
        return matrix

    def _canvas(self, matrix) -> tuple[cairocffi.ImageSurface, cairocffi.Context]:
        surface = blank(self.cairo.get_width(), self.cairo.get_height())
        context = cairocffi.Context(surface)
        context.set_matrix(matrix)
        return surface, context

    def _clip_coverage(self, clip, matrix, box) -> cairocffi.ImageSurface:
        """Where a clip path lets the element show, in device pixels (the alpha)."""
        total, _ = self._canvas(matrix)
        # The clip path's own transform acts in the element's user space, outside the bounding
        # box's units.
        content_matrix = self._matrix_of(clip, cairocffi.Matrix()).multiply(matrix)
        if clip.get("clipPathUnits") == "objectBoundingBox":
            if not box:
                return total  # nothing to size it by: nothing shows
            bounding = cairocffi.Matrix(box[2], 0, 0, box[3], box[0], box[1])
            content_matrix = bounding.multiply(content_matrix)
        for child in clip.children:
            if not self._is_clip_child(child):
                continue
            piece, context = self._canvas(content_matrix)
            shape = copy.copy(child)
            shape.pop("clip-path", None)
            with drawing_onto(self, context):
                self._path_only(shape)
            evenodd = child.get("clip-rule") == "evenodd"
            context.set_fill_rule(
                cairocffi.FILL_RULE_EVEN_ODD if evenodd else cairocffi.FILL_RULE_WINDING
            )
            context.set_source_rgb(0, 0, 0)
            context.fill()
            inner = _referenced(self.paths, child.get("clip-path"))
            if inner is not None:
                child_matrix = self._matrix_of(child, content_matrix)
                child_box = element_bounding_box(self, child)
                piece = _intersection(piece, self._clip_coverage(inner, child_matrix, child_box))
            paint(total, piece, 0, 0)
        outer = _referenced(self.paths, clip.get("clip-path"))
        if outer is not None:
            total = _intersection(total, self._clip_coverage(outer, matrix, box))
        return total

    def _is_clip_child(self, child) -> bool:
        if child.get("display") == "none" or child.get("visibility") == "hidden":
            return False
        if child.tag in SHAPES or child.get(TEXT_OUTLINES):
            return True
        if child.tag == "use":
            target = self._use_target(child)
            return target is not None and target.tag in SHAPES
        return False

    def _use_target(self, use):
        """The element a <use> draws, found as cairosvg's own <use> finds it."""
        if not use.get_href():
            return None
        return Tree(url=use.get_href(), url_fetcher=use.url_fetcher, parent=use, unsafe=False)

    def _path_only(self, shape) -> None:
        """The shape's outline added to the context's path, nothing painted (cairosvg's own way
        of drawing a clip path)."""
        self.stroke_and_fill = False
        try:
            PNGSurface.draw(self, shape)
        finally:
            self.stroke_and_fill = True

    def _matrix_of(self, node, matrix) -> cairocffi.Matrix:
        context = cairocffi.Context(blank(1, 1))
        context.set_matrix(matrix)
        with drawing_onto(self, context):
            transform(self, node.get("transform"))
        return context.get_matrix()

    def _mask_coverage(self, mask, matrix, box) -> cairocffi.ImageSurface:
        """How much of the element a mask lets show, in device pixels (the alpha): its content's
        luminance, or its alpha for mask-type="alpha", within the mask's region."""
        surface, context = self._canvas(matrix)
        by_box = mask.get("maskUnits") != "userSpaceOnUse"
        if (by_box or mask.get("maskContentUnits") == "objectBoundingBox") and not box:
            return surface  # nothing to size it by: nothing shows
        if by_box:
            x, y, width, height = box
            region = (
                x + size(self, mask.get("x", "-10%"), 1) * width,
                y + size(self, mask.get("y", "-10%"), 1) * height,
                size(self, mask.get("width", "120%"), 1) * width,
                size(self, mask.get("height", "120%"), 1) * height,
            )
        else:
            region = (
                size(self, mask.get("x", "-10%"), "x"),
                size(self, mask.get("y", "-10%"), "y"),
                size(self, mask.get("width", "120%"), "x"),
                size(self, mask.get("height", "120%"), "y"),
            )
        context.rectangle(*region)
        context.clip()
        if mask.get("maskContentUnits") == "objectBoundingBox":
            context.set_matrix(
                cairocffi.Matrix(box[2], 0, 0, box[3], box[0], box[1]).multiply(matrix)
            )

        with drawing_onto(self, context):
            for child in mask.children:
                self.draw(child)
        coverage = surface if mask.get("mask-type") == "alpha" else _luminance(surface)
        inner = _referenced(self.masks, mask.get("mask"))
        if inner is not None and inner is not mask:
            coverage = _intersection(coverage, self._mask_coverage(inner, matrix, box))
        return coverage


def _intersection(first, second) -> cairocffi.ImageSurface:
    """Coverage where both cover (their alphas multiplied)."""
    result = blank(first.get_width(), first.get_height())
    paint(result, first, 0, 0, cairocffi.OPERATOR_SOURCE)
    paint(result, second, 0, 0, cairocffi.OPERATOR_DEST_IN)
    return result


def _luminance(surface) -> cairocffi.ImageSurface:
    """A coverage whose alpha is the surface's luminance times its alpha (of premultiplied
    values, that is their luminance)."""
    surface.flush()
    bgra = pyvips.Image.new_from_memory(
        bytes(surface.get_data()), surface.get_width(), surface.get_height(), 4, "uchar"
    )
    luminance = (bgra.recomb(_LUMINANCE) + 0.5).cast("uchar")
    grey = luminance.bandjoin([luminance, luminance, luminance])
    data = bytearray(grey.write_to_memory())
    return cairocffi.ImageSurface.create_for_data(
        data, cairocffi.FORMAT_ARGB32, surface.get_width(), surface.get_height()
    )
