"""A template filled with one variant's layer values, as the SVG document cairosvg draws.

Text reaches the document only as glyph outlines (render/typeset.py), never as markup;
colours are validated #rrggbb; a photo is an <image> whose href names a layer (`photo:<id>`),
which only the rasteriser's fetcher resolves, to pixels the catalog layer handed over.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from xml.etree import ElementTree as ET

from renderfarm_dagster.layers import LayerValue
from renderfarm_dagster.render.template import (
    RF_NS,
    SVG_NS,
    ColorLayer,
    ImageLayer,
    Template,
    TextLayer,
)
from renderfarm_dagster.render.typeset import (
    LINE_HEIGHT,
    PATH_UNITS,
    FontSet,
    SetText,
    TextStyle,
    font_set,
    set_text,
)

DARK_INK = "#1d1d1f"
LIGHT_INK = "#ffffff"
# Where a line's baseline sits below the middle of its box: about half the cap height of DejaVu.
MIDDLE_BASELINE = 0.36
PHOTO_SCHEME = "photo:"
# Attributes of a text layer's element that its lines do not inherit as they are.
_TEXT_LAYOUT_ATTRIBUTES = {
    "id", "x", "y", "dx", "dy", "font-family", "font-size", "font-weight", "text-anchor",
    "direction", "fill",
}  # fmt: skip
_PLACEHOLDER_KEEPS = ("transform", "opacity", "clip-path", "mask")


@dataclass(frozen=True)
class PlacedImage:
    """An image layer that shows a photo: its box in output pixels and how it is fitted."""

    layer_id: str
    key: str
    width: int
    height: int
    fit: str
    focal: tuple[float, float]


def view_box(template: Template, aspect: Fraction) -> tuple[float, float, float, float]:
    """The viewBox for an output of `aspect` (width/height): the design box centred in it."""
    width, height = template.design_width, template.design_height
    if aspect > Fraction(width) / Fraction(height):
        width = height * float(aspect)
    else:
        height = width / float(aspect)
    x = template.view_x + (template.design_width - width) / 2
    y = template.view_y + (template.design_height - height) / 2
    return x, y, width, height


def placed_images(
    template: Template, values: Mapping[str, LayerValue], width: int, height: int
) -> list[PlacedImage]:
    """The photos an output of `width` x `height` shows, each with its box in output pixels."""
    scale = width / view_box(template, Fraction(width, height))[2]
    placed = []
    for layer in template.layers.values():
        if not isinstance(layer, ImageLayer):
            continue
        value = values.get(layer.id, LayerValue())
        if value.image is None or _hidden(layer, value):
            continue
        placed.append(
            PlacedImage(
                layer_id=layer.id,
                key=value.image,
                width=max(1, round(layer.box.width * scale)),
                height=max(1, round(layer.box.height * scale)),
                fit=value.fit or layer.fit,
                focal=value.focal or layer.focal,
            )
        )
    return placed


@dataclass(frozen=True)
class Layout:
    svg: bytes
    # Each shown text layer as it was set: its glyphs, fonts and the characters none has.
    text: dict[str, SetText]

    @property
    def outlines(self) -> dict[str, object]:
        """Each text layer's path data -> the same outline as cairo's path (rasterize's fast
        path for glyph outlines)."""
        return {text.path: text.outline for text in self.text.values()}

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
    placed as glyph outlines: the document has no <text> left for cairosvg's text API.
    """
    root = copy.deepcopy(template.root)
    ids = {element.get("id"): element for element in root.iter() if element.get("id")}
    parents = {child: parent for parent in root.iter() for child in parent}

    def remove(element: ET.Element | None) -> None:
        if element is not None and element in parents:
            parents[element].remove(element)

    colours = _apply_colours(template, values, ids, root, remove)
    text = _apply_text(
        template, values, ids, parents, colours, remove, fonts or font_set(), language
    )
    for layer in template.layers.values():
        if isinstance(layer, ImageLayer):
            value = values.get(layer.id, LayerValue())
            if _hidden(layer, value):
                remove(ids[layer.id])
            elif value.image is not None:
                _replace(parents, ids[layer.id], _image_element(layer, ids[layer.id]))

    x, y, width, height = view_box(template, aspect)
    root.set("xmlns", SVG_NS)
    root.set("viewBox", f"{_n(x)} {_n(y)} {_n(width)} {_n(height)}")
    root.set("width", _n(width))
    root.set("height", _n(height))
    backdrop = ET.Element(
        "rect",
        {
            "x": _n(x),
            "y": _n(y),
            "width": _n(width),
            "height": _n(height),
            "fill": template.backdrop,
        },
    )
    root.insert(0, backdrop)
    return Layout(ET.tostring(root, encoding="utf-8"), text)


def _hidden(layer, value: LayerValue) -> bool:
    """A spec's `hidden` wins; a layer a spec gives a value is shown; else the template says."""
    if value.hidden is not None:
        return value.hidden
    if value.text is not None or value.image is not None or value.color is not None:
        return False
    return layer.hidden


def _apply_colours(template, values, ids, root, remove) -> dict[str, str]:
    colours: dict[str, str] = {}
    for layer in template.layers.values():
        if not isinstance(layer, ColorLayer):
            continue
        value = values.get(layer.id, LayerValue())
        colours[layer.id] = value.color or layer.default
        if _hidden(layer, value):
            remove(ids[layer.id])
        else:
            ids[layer.id].set(layer.target, colours[layer.id])
    # Elements that follow a color layer take its colour, hidden or not.
    for element in root.iter():
        for attribute in ("fill", "stroke"):
            followed = element.get(f"{{{RF_NS}}}{attribute}")
            if followed in colours:
                element.set(attribute, colours[followed])
    return colours


def _apply_text(template, values, ids, parents, colours, remove, fonts, language) -> dict:
    set_texts: dict[str, SetText] = {}
    bottoms: dict[str, float] = {}
    for layer in _flow_order(template):
        element = ids[layer.id]
        value = values.get(layer.id, LayerValue())
        text = layer.default if value.text is None else value.text
        top = layer.box.y
        if layer.below in bottoms:
            # Below the layer it flows after, as drawn; a hidden one pushes nothing down.
            top = max(top, bottoms[layer.below] + layer.gap)
        if _hidden(layer, value) or not text.strip():
            remove(element)
            remove(ids.get(layer.background) if layer.background else None)
            continue
        style = TextStyle(layer.families, layer.bold, language, layer.anchor, layer.direction)
        lines_that_fit = _lines_that_fit(layer, top)
        typeset = set_text(
            text, style, fonts, layer.box.width, lines_that_fit, layer.max_size, layer.min_size
        )
        set_texts[layer.id] = typeset
        size = typeset.size
        step = size * LINE_HEIGHT
        spread = step * (typeset.lines - 1)
        if layer.valign == "middle":
            baseline = layer.box.y + layer.box.height / 2 - spread / 2 + MIDDLE_BASELINE * size
        elif layer.valign == "baseline":
            baseline = layer.box.y + layer.box.height - spread
        else:
            baseline = top + size
        fill = element.get("fill", "#000000")
        if layer.contrast_on is not None:
            fill = _ink_on(colours[layer.contrast_on])
        inherited = {
            name: value
            for name, value in element.attrib.items()
            if name not in _TEXT_LAYOUT_ATTRIBUTES and not name.startswith(f"{{{RF_NS}}}")
        }
        group = ET.Element("g", {"id": layer.id, **inherited})
        # The glyph outlines, placed at the box's left edge and the first line's baseline.
        ET.SubElement(
            group,
            "path",
            {
                "d": typeset.path,
                "transform": (
                    f"translate({_n(layer.box.x)} {_n(baseline)}) scale({1 / PATH_UNITS})"
                ),
                "fill": fill,
                "fill-rule": "nonzero",
            },
        )
        _replace(parents, element, group)
        if layer.background:
            background = ids[layer.background]
            background.set("width", _n(typeset.widest + 2 * layer.padding))
            if typeset.left:
                # Text not at the box's left (right-to-left, or anchored elsewhere): the shape
                # moves with it.
                background.set("x", _n(float(background.get("x", 0)) + typeset.left))
            bottoms[layer.id] = float(background.get("y", 0)) + float(background.get("height", 0))
        else:
            # What follows starts a line's height below the last baseline, less its leading.
            bottoms[layer.id] = baseline + spread + size
    return set_texts


def _lines_that_fit(layer: TextLayer, top: float) -> int:
    """At most max-lines, and no more than fit above the box's bottom at the largest size."""
    if layer.below is None:
        return layer.max_lines
    bottom = layer.box.y + layer.box.height
    room = bottom - (top + layer.max_size)
    return max(1, min(layer.max_lines, 1 + int(room // (layer.max_size * LINE_HEIGHT))))


def _flow_order(template: Template) -> list[TextLayer]:
    """Text layers, each after the layer it flows below; a cycle falls back to document order."""
    layers = [layer for layer in template.layers.values() if isinstance(layer, TextLayer)]
    ordered: list[TextLayer] = []
    placed: set[str] = set()
    for _ in range(len(layers) + 1):
        for layer in layers:
            if layer.id not in placed and (layer.below is None or layer.below in placed):
                ordered.append(layer)
                placed.add(layer.id)
    ordered += [layer for layer in layers if layer.id not in placed]
    return ordered


def _image_element(layer: ImageLayer, placeholder: ET.Element) -> ET.Element:
    attributes = {
        "id": layer.id,
        "x": _n(layer.box.x),
        "y": _n(layer.box.y),
        "width": _n(layer.box.width),
        "height": _n(layer.box.height),
        # The photo is already fitted to the box's shape in output pixels.
        "preserveAspectRatio": "none",
        "href": f"{PHOTO_SCHEME}{layer.id}",
    }
    for name in _PLACEHOLDER_KEEPS:
        if placeholder.get(name) is not None:
            attributes[name] = placeholder.get(name)
    return ET.Element("image", attributes)


def _replace(parents, old: ET.Element, new: ET.Element) -> None:
    parent = parents[old]
    position = list(parent).index(old)
    new.tail = old.tail
    parent.remove(old)
    parent.insert(position, new)
    parents[new] = parent


def _ink_on(background: str) -> str:
    """Dark or light ink, whichever reads better on `background` (a #rrggbb colour)."""
    red, green, blue = (int(background[i : i + 2], 16) / 255 for i in (1, 3, 5))
    # Rec. 709 luma weights: a good enough proxy for perceived brightness.
    return DARK_INK if 0.2126 * red + 0.7152 * green + 0.0722 * blue > 0.6 else LIGHT_INK


def _n(value: float) -> str:
    """A number as SVG text: fixed precision keeps the document byte-identical across runs."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text
