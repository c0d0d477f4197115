"""Text layers: a `<text>` element whose words a spec sets, wrapped and fitted to a box.

    <text id="title" rf:layer="text" rf:box="x y w h" rf:max-lines="2" rf:min-size="34"
          font-size="64">Default</text>

The text is wrapped to at most max-lines lines of the box's width, shrunk from font-size down
to min-size, then cut with an ellipsis, set by Pango (render/typeset.py) in the template's font
families and placed as glyph outlines. A layer can flow below another (`rf:below`, `rf:gap`),
carry a shape that hugs it (`rf:background`, `rf:padding`) and take dark or light ink by a
color layer (`rf:contrast-on`). A spec sets `text`, or a `price` written in the variant's
market format.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal
from xml.etree import ElementTree as ET

from renderfarm_dagster.layers import LayerValue
from renderfarm_dagster.render.fonts import DEFAULT_FAMILY, GENERIC_FAMILIES
from renderfarm_dagster.render.kinds.base import (
    STROKE_LENGTHS,
    Box,
    ElementReader,
    LayerKind,
    LayoutDocument,
    TemplateLayer,
    is_hidden,
    number_text,
    outline_strokes,
)
from renderfarm_dagster.render.kinds.color import ColorLayer
from renderfarm_dagster.render.svg_document import (
    MAX_DESIGN_SIZE,
    RF_NS,
    promote_style,
    style_declarations,
)
from renderfarm_dagster.render.typeset import LINE_HEIGHT, PATH_UNITS, TextStyle, set_text
from renderfarm_dagster.spec_fields import Price, Text

DARK_INK = "#1d1d1f"
LIGHT_INK = "#ffffff"
# Where a line's baseline sits below the middle of its box: about half the cap height of DejaVu.
MIDDLE_BASELINE = 0.36
# What the layout reads, moved from style="" to attributes where editors put them.
_STYLE_PROPERTIES = (
    "font-family", "font-size", "font-weight", "text-anchor", "direction", "fill",
)  # fmt: skip
# Attributes of the element that its lines do not inherit as they are.
_LAYOUT_ATTRIBUTES = {"id", "x", "y", "dx", "dy", *_STYLE_PROPERTIES}


@dataclass(frozen=True, kw_only=True)
class TextLayer(TemplateLayer):
    kind = "text"
    box: Box
    max_lines: int
    max_size: float
    min_size: float
    bold: bool
    anchor: Literal["start", "middle", "end"]
    valign: Literal["top", "middle", "baseline"]
    default: str
    # The font-family list, first choice first ("sans-serif" is the bundled default stack);
    # the bundled fallbacks follow for characters these lack.
    families: tuple[str, ...] = (DEFAULT_FAMILY,)
    # "ltr" or "rtl" (SVG's direction attribute) fixes the paragraph direction, and with it
    # which side text-anchor's start is; otherwise the text's first strong character decides.
    direction: Literal["ltr", "rtl"] | None = None
    # Flow: the box's top moves up to `gap` below the text of this layer, as drawn.
    below: str | None = None
    gap: float = 0.0
    # A shape that hugs the fitted text (a badge's pill): its width follows the text's.
    background: str | None = None
    padding: float = 0.0
    # Dark or light ink, whichever reads better on this colour layer's colour.
    contrast_on: str | None = None


def _take_first_run(element: ET.Element, reader: ElementReader) -> bool:
    """A text layer whose <text> holds <tspan> runs, as every design tool writes one: its text is
    the default, and the first run's style is the layer's where the <text> sets none (its
    position is the layer's rf:box). The runs are then dropped: a spec's text replaces them all.
    False, with a problem, for anything but runs inside."""
    runs = [child for child in element.iter() if child is not element]
    if any(run.tag != "tspan" for run in runs):
        reader.problem(
            element, "a text layer holds its default text and <tspan> runs, nothing else"
        )
        return False
    first = runs[0]
    promote_style(first, _STYLE_PROPERTIES)
    for name in _STYLE_PROPERTIES:
        if element.get(name) is None and first.get(name) is not None:
            element.set(name, first.get(name, ""))
    text = element.text or ""
    for run in element:
        # A run placed on its own (Inkscape's lines, each with its x and y) starts a new word.
        placed = run.get("x") is not None or run.get("y") is not None
        if placed and text.strip() and not text[-1].isspace():
            text += " "
        text += "".join(run.itertext()) + (run.tail or "")
    for run in list(element):
        element.remove(run)
    element.text = text
    return True


class TextKind(LayerKind):
    name = TextLayer.kind
    settings: ClassVar[Mapping[str, Any]] = {"text": Text | None, "price": Price | None}
    alternatives = ("text", "price")
    values = ("text",)

    def parse(
        self, element: ET.Element, identity: dict[str, Any], reader: ElementReader
    ) -> TextLayer | None:
        if element.tag != "text":
            reader.problem(element, "a text layer must be a <text> element")
            return None
        promote_style(element, _STYLE_PROPERTIES)
        if len(element) and not _take_first_run(element, reader):
            return None
        box = reader.box(element)
        families = _font_families(element, reader)
        direction = element.get("direction")
        if direction not in (None, "ltr", "rtl"):
            reader.problem(element, f"direction={direction!r} is not ltr or rtl")
        max_size = reader.number(element, "font-size", None, 1, 1000)
        min_size = reader.number(element, "rf:min-size", max_size, 1, 1000)
        if min_size > max_size:
            reader.problem(element, "rf:min-size is larger than font-size")
        anchor = reader.choice(element, "text-anchor", "start", ("start", "middle", "end"))
        valign = reader.choice(element, "rf:valign", "top", ("top", "middle", "baseline"))
        weight = element.get("font-weight", "normal")
        if box is None:
            return None
        return TextLayer(
            **identity,
            box=box,
            max_lines=int(reader.number(element, "rf:max-lines", 1, 1, 20)),
            max_size=max_size,
            min_size=min_size,
            bold=weight in ("bold", "bolder") or (weight.isdigit() and int(weight) >= 600),
            anchor=anchor,  # type: ignore[arg-type]
            valign=valign,  # type: ignore[arg-type]
            default=" ".join((element.text or "").split()),
            families=families,
            direction=direction if direction in ("ltr", "rtl") else None,  # type: ignore[arg-type]
            below=reader.rf(element, "below"),
            gap=reader.number(element, "rf:gap", 0.0, 0, MAX_DESIGN_SIZE),
            background=reader.rf(element, "background"),
            padding=reader.number(element, "rf:padding", 0.0, 0, MAX_DESIGN_SIZE),
            contrast_on=reader.rf(element, "contrast-on"),
        )

    def check_references(
        self, layers: Mapping[str, TemplateLayer], root: ET.Element, reader: ElementReader
    ) -> None:
        for layer in layers.values():
            if not isinstance(layer, TextLayer):
                continue
            element = reader.ids[layer.id]
            if layer.below is not None and not isinstance(layers.get(layer.below), TextLayer):
                reader.problem(element, f'rf:below="{layer.below}" names no text layer')
            if layer.contrast_on is not None and not isinstance(
                layers.get(layer.contrast_on), ColorLayer
            ):
                reader.problem(
                    element, f'rf:contrast-on="{layer.contrast_on}" names no color layer'
                )
            if layer.background is not None:
                background = reader.ids.get(layer.background)
                if background is None or background.tag != "rect":
                    reader.problem(element, f'rf:background="{layer.background}" names no <rect>')

    def value_fields(self, settings: Mapping[str, Any], locale: str) -> dict[str, Any]:
        price = settings.get("price")
        return {"text": price.format(locale) if price is not None else settings.get("text")}

    def lay_out(
        self,
        layers: list[TemplateLayer],
        values: Mapping[str, LayerValue],
        document: LayoutDocument,
    ) -> None:
        bottoms: dict[str, float] = {}
        for layer in _flow_order([layer for layer in layers if isinstance(layer, TextLayer)]):
            bottom = _lay_out_one(layer, values.get(layer.id, LayerValue()), bottoms, document)
            if bottom is not None:
                bottoms[layer.id] = bottom


KIND = TextKind()


def _font_families(element: ET.Element, reader: ElementReader) -> tuple[str, ...]:
    """The font-family list ('Brand Sans', sans-serif); which are available is checked apart
    (render/template.py's unavailable_font_families)."""
    families = []
    for entry in element.get("font-family", GENERIC_FAMILIES[0]).split(","):
        family = entry.strip().strip("'\"").strip()
        if not family:
            continue
        if not family.isprintable() or len(family) > 100:
            reader.problem(element, f"font family {family[:100]!r} is not a family name")
        families.append(family)
    return tuple(families) or (DEFAULT_FAMILY,)


def _lay_out_one(
    layer: TextLayer, value: LayerValue, bottoms: dict[str, float], document: LayoutDocument
) -> float | None:
    """Sets one layer's text in its place; returns where what flows below it starts (None:
    it shows nothing)."""
    element = document.ids[layer.id]
    text = value.get("text")
    text = layer.default if text is None else text
    top = layer.box.y
    if layer.below in bottoms:
        # Below the layer it flows after, as drawn; a hidden one pushes nothing down.
        top = max(top, bottoms[layer.below] + layer.gap)
    if is_hidden(layer, value) or not text.strip():
        document.remove(element)
        document.remove(document.ids.get(layer.background) if layer.background else None)
        return None
    style = TextStyle(layer.families, layer.bold, document.language, layer.anchor, layer.direction)
    typeset = set_text(
        text,
        style,
        document.fonts,
        layer.box.width,
        _lines_that_fit(layer, top),
        layer.max_size,
        layer.min_size,
    )
    document.text[layer.id] = typeset
    size = typeset.size
    spread = size * LINE_HEIGHT * (typeset.lines - 1)
    if layer.valign == "middle":
        baseline = layer.box.y + layer.box.height / 2 - spread / 2 + MIDDLE_BASELINE * size
    elif layer.valign == "baseline":
        baseline = layer.box.y + layer.box.height - spread
    else:
        baseline = top + size
    fill = element.get("fill", "#000000")
    if layer.contrast_on is not None:
        fill = _ink_on(document.colours[layer.contrast_on])
    inherited = {
        name: value
        for name, value in element.attrib.items()
        if name not in _LAYOUT_ATTRIBUTES and not name.startswith(f"{{{RF_NS}}}")
    }
    group = ET.Element("g", {"id": layer.id, **inherited})
    declared = dict(style_declarations(element))
    strokes = {name: declared.get(name, element.get(name)) for name in STROKE_LENGTHS}
    # The glyph outlines, placed at the box's left edge and the first line's baseline.
    ET.SubElement(
        group,
        "path",
        {
            **outline_strokes(strokes, PATH_UNITS),
            "d": typeset.path,
            "transform": (
                f"translate({number_text(layer.box.x)} {number_text(baseline)}) "
                f"scale({1 / PATH_UNITS})"
            ),
            "fill": fill,
            "fill-rule": "nonzero",
        },
    )
    document.replace(element, group)
    if not layer.background:
        # What follows starts a line's height below the last baseline, less its leading.
        return baseline + spread + size
    background = document.ids[layer.background]
    background.set("width", number_text(typeset.widest + 2 * layer.padding))
    if typeset.left:
        # Text not at the box's left (right-to-left, or anchored elsewhere): the shape moves
        # with it.
        background.set("x", number_text(float(background.get("x", 0)) + typeset.left))
    return float(background.get("y", 0)) + float(background.get("height", 0))


def _lines_that_fit(layer: TextLayer, top: float) -> int:
    """At most max-lines, and no more than fit above the box's bottom at the largest size."""
    if layer.below is None:
        return layer.max_lines
    bottom = layer.box.y + layer.box.height
    room = bottom - (top + layer.max_size)
    return max(1, min(layer.max_lines, 1 + int(room // (layer.max_size * LINE_HEIGHT))))


def _flow_order(layers: list[TextLayer]) -> list[TextLayer]:
    """Each layer after the layer it flows below; a cycle falls back to document order."""
    ordered: list[TextLayer] = []
    placed: set[str] = set()
    for _ in range(len(layers) + 1):
        for layer in layers:
            if layer.id not in placed and (layer.below is None or layer.below in placed):
                ordered.append(layer)
                placed.add(layer.id)
    ordered += [layer for layer in layers if layer.id not in placed]
    return ordered


def _ink_on(background: str) -> str:
    """Dark or light ink, whichever reads better on `background` (a #rrggbb colour)."""
    red, green, blue = (int(background[i : i + 2], 16) / 255 for i in (1, 3, 5))
    # Rec. 709 luma weights: a good enough proxy for perceived brightness.
    return DARK_INK if 0.2126 * red + 0.7152 * green + 0.0722 * blue > 0.6 else LIGHT_INK
