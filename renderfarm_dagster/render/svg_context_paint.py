"""SVG 2's context-fill and context-stroke, which cairosvg does not know: content drawn through a
<use> or as a marker painted with the fill or stroke of the element that uses it."""

from __future__ import annotations

from cairosvg.surface import PNGSurface

from renderfarm_dagster.render.svg_document import MARKER_PROPERTIES

_CONTEXT_PAINTS = {"context-fill": 0, "context-stroke": 1}


class ContextPaintSurface(PNGSurface):
    """cairosvg's PNG surface, resolving context-fill and context-stroke while it draws."""

    # The fill and stroke of the <use> or marked element being drawn (None: none is).
    context_paint: tuple[str, str] | None = None

    def draw(self, node) -> None:
        replaced = {}
        for name in ("fill", "stroke"):
            value = node.get(name)
            if value in _CONTEXT_PAINTS:
                replaced[name] = value
                paint = self.context_paint
                # Without a context element there is no paint, as SVG says.
                node[name] = "none" if paint is None else paint[_CONTEXT_PAINTS[value]]
        outer = self.context_paint
        if node.tag == "use" or any(marker in node for marker in MARKER_PROPERTIES):
            self.context_paint = (node.get("fill", "black"), node.get("stroke", "none"))
        try:
            super().draw(node)
        finally:
            self.context_paint = outer
            node.update(replaced)
