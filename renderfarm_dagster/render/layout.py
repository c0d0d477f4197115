"""A template filled with one variant's layer values, as the SVG document cairosvg draws.

Each layer kind lays out its own layers (render/kinds/), in the registry's order: text reaches
the document only as glyph outlines (never as markup), colours are validated #rrggbb, and a
photo is an <image> whose href names a layer (`photo:<id>`), which only the rasteriser's
fetcher resolves, to pixels the catalog layer handed over.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from xml.etree import ElementTree as ET

from renderfarm_dagster.layers import LayerValue
from renderfarm_dagster.render.kinds import KINDS
from renderfarm_dagster.render.kinds.base import LayoutDocument, TemplateLayer, number_text
from renderfarm_dagster.render.static_text import set_static_text
from renderfarm_dagster.render.svg_document import SVG_NS
from renderfarm_dagster.render.template import Template
from renderfarm_dagster.render.typeset import FontSet, SetText, font_set


@dataclass(frozen=True)
class Layout:
    svg: bytes
    # Each shown text layer as it was set: its glyphs, fonts and the characters none has.
    text: dict[str, SetText]
    # The runs of the template's own text (render/static_text.py).
    static_text: tuple[SetText, ...] = ()

    @property
    def outlines(self) -> dict[str, object]:
        """Each text layer's and run's path data -> the same outline as cairo's path
        (rasterize's fast path for glyph outlines)."""
        runs = (*self.text.values(), *self.static_text)
        return {text.path: text.outline for text in runs}

    @property
    def uncovered(self) -> dict[str, str]:
        """Text layer id -> characters no available font has (drawn as Pango's hex boxes)."""
        return {
            layer: typeset.uncovered for layer, typeset in self.text.items() if typeset.uncovered
        }


def layout(
    template: Template,
    values: Mapping[str, LayerValue],
    aspect: Fraction,
    fonts: FontSet | None = None,
    language: str = "en",
) -> Layout:
    """The SVG document of `template` with `values` applied, for an output of `aspect`.

    Text is set in `fonts` (the bundled set when None) with `language`'s conventions, and
    placed as glyph outlines, the layers' and the template's own: the document has no <text>
    left for cairosvg's text API.
    """
    document = LayoutDocument(copy.deepcopy(template.root), fonts or font_set(), language)
    by_kind: dict[str, list[TemplateLayer]] = defaultdict(list)
    for layer in template.layers.values():
        by_kind[layer.kind].append(layer)
    _resolve_conditions(document.root, language)
    for name, kind in KINDS.items():
        kind.lay_out(by_kind[name], values, document)
    static_text = set_static_text(document)

    root = document.root
    x, y, width, height = (number_text(n) for n in template.view_box(aspect))
    root.set("xmlns", SVG_NS)
    root.set("viewBox", f"{x} {y} {width} {height}")
    # The view box has the output's aspect already, placed as the design asked; only a
    # stretched design is still fitted by the renderer.
    root.set("preserveAspectRatio", "none" if template.stretched else "xMidYMid meet")
    root.set("width", width)
    root.set("height", height)
    if template.blends:
        # The design blends with itself, as in a browser (the root is a group of its own), never
        # with the backdrop the farm paints under it.
        design = ET.Element("g", {"isolation": "isolate"})
        design.extend(list(root))
        for child in list(root):
            root.remove(child)
        root.append(design)
    backdrop = {"x": x, "y": y, "width": width, "height": height, "fill": template.backdrop}
    root.insert(0, ET.Element("rect", backdrop))
    return Layout(ET.tostring(root, encoding="utf-8"), document.text, tuple(static_text))


_CONDITIONS = ("systemLanguage", "requiredFeatures", "requiredExtensions")
# Where conditions do nothing (browsers and resvg ignore them there).
_UNCONDITIONAL = frozenset(
    {"defs", "clipPath", "mask", "linearGradient", "radialGradient", "pattern", "marker",
     "symbol", "stop", "filter", "style"}
)  # fmt: skip


def _resolve_conditions(root: ET.Element, language: str) -> None:
    """SVG's conditional processing decided for the variant's language, and its attributes
    removed: cairosvg would decide by the worker's own locale, so that the same variant could
    draw differently on two machines. An element shows when one of its systemLanguage tags is
    the language or starts with it ("en" shows for en-US); requiredExtensions, which no
    extension here answers, hides it; requiredFeatures (dropped by SVG 2) does not."""
    parents = {child: parent for parent in root.iter() for child in parent}
    for element in list(root.iter()):
        conditions = {
            name: element.attrib.pop(name) for name in _CONDITIONS if name in element.attrib
        }
        if not conditions or element is root or element.tag in _UNCONDITIONAL:
            continue
        tags = [tag.strip().lower() for tag in conditions.get("systemLanguage", "").split(",")]
        shown = "requiredExtensions" not in conditions and (
            "systemLanguage" not in conditions
            or any(
                tag == language.lower() or tag.startswith(f"{language.lower()}-") for tag in tags
            )
        )
        if not shown and element in parents:
            parents[element].remove(element)
