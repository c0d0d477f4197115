"""Color layers: a shape whose fill (or stroke) a spec sets.

    <rect id="band" rf:layer="color" fill="#1d3557" .../>        its fill
    <circle id="ring" rf:layer="color" fill="none" stroke=.../>  its stroke, having no fill
    <circle rf:fill="band" .../>                                  follows the band's colour

rf:target="fill" or "stroke" says which where the design has both.

The element's own colour is the default. Other elements follow the layer with
`rf:fill="<layer id>"` or `rf:stroke="<layer id>"`, shown or hidden; text layers take dark or
light ink on it with `rf:contrast-on`. A spec sets `color`, a #rrggbb colour.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal
from xml.etree import ElementTree as ET

from renderfarm_dagster.layers import LayerValue
from renderfarm_dagster.render.kinds.base import (
    ElementReader,
    LayerKind,
    LayoutDocument,
    TemplateLayer,
    is_hidden,
)
from renderfarm_dagster.render.svg_document import RF_NS, promote_style, property_value, walk
from renderfarm_dagster.spec_fields import Colour

_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
_FOLLOWED = ("fill", "stroke")


@dataclass(frozen=True, kw_only=True)
class ColorLayer(TemplateLayer):
    kind = "color"
    target: Literal["fill", "stroke"]
    default: str


class ColorKind(LayerKind):
    name = ColorLayer.kind
    settings: ClassVar[Mapping[str, Any]] = {"color": Colour | None}
    values = ("color",)

    def parse(
        self, element: ET.Element, identity: dict[str, Any], reader: ElementReader
    ) -> ColorLayer | None:
        target = reader.rf(element, "target") or _declared_paint(element)
        if target not in ("fill", "stroke"):
            reader.problem(element, f"rf:target={target!r} is not fill or stroke")
            return None
        # Declared in style="" (or a sheet, written there): the layer sets the attribute, which
        # a style declaration would override.
        promote_style(element, (target,))
        default = element.get(target, "")
        if not _COLOUR.fullmatch(default):
            reader.problem(
                element, f"a color layer's {target} (its default) must be a #rrggbb colour"
            )
            return None
        return ColorLayer(**identity, target=target, default=default.lower())  # type: ignore[arg-type]

    def check_references(
        self, layers: Mapping[str, TemplateLayer], root: ET.Element, reader: ElementReader
    ) -> None:
        for element, _ in walk(root):
            for attribute in _FOLLOWED:
                followed = reader.rf(element, attribute)
                if followed is not None and not isinstance(layers.get(followed), ColorLayer):
                    reader.problem(element, f'rf:{attribute}="{followed}" names no color layer')
                elif followed is not None:
                    promote_style(element, (attribute,))

    def lay_out(
        self,
        layers: list[TemplateLayer],
        values: Mapping[str, LayerValue],
        document: LayoutDocument,
    ) -> None:
        for layer in layers:
            assert isinstance(layer, ColorLayer)
            value = values.get(layer.id, LayerValue())
            document.colours[layer.id] = value.get("color") or layer.default
            if is_hidden(layer, value):
                document.remove(document.ids[layer.id])
            else:
                document.ids[layer.id].set(layer.target, document.colours[layer.id])
        # Elements that follow a color layer take its colour, hidden or not.
        for element in document.root.iter():
            for attribute in _FOLLOWED:
                followed = element.get(f"{{{RF_NS}}}{attribute}")
                if followed in document.colours:
                    element.set(attribute, document.colours[followed])


KIND = ColorKind()


def _declared_paint(element: ET.Element) -> str:
    """Without rf:target, the paint the design gave a colour: the fill, or the stroke of an
    outline drawn without a fill (a ring, a rule)."""
    fill, stroke = property_value(element, "fill"), property_value(element, "stroke")
    if fill is not None and fill.strip() == "none" and stroke is not None:
        return "stroke"
    return "fill"
