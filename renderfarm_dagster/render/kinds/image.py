"""Image layers: a placeholder whose box receives a photo.

    <rect id="photo" rf:layer="image" x=".." y=".." width=".." height=".." rf:fit="cover"
          rf:focal="0.5 0.3"/>              (any element with rf:box="x y w h" will do)

`rf:fit="cover"` fills the box, cropped around the focal point (x and y from 0 to 1);
`"contain"` shows the whole photo inside it. Without a photo the placeholder draws as designed.
A spec sets `image` (the photo's key, assets/...) and may set `fit` and `focal`.

The photo is not in the document: the placeholder becomes an <image> whose href names the layer
(`photo:<id>`), which only the rasteriser's fetcher resolves, to pixels already fitted to the
box in output pixels (placed_images says which and how large).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal
from xml.etree import ElementTree as ET

from pydantic import Field

from renderfarm_dagster.layers import LayerValue
from renderfarm_dagster.render.kinds.base import (
    Box,
    ElementReader,
    LayerKind,
    LayoutDocument,
    TemplateLayer,
    is_hidden,
    number_text,
)
from renderfarm_dagster.render.svg_document import floats
from renderfarm_dagster.spec_fields import AssetKey

if TYPE_CHECKING:
    from renderfarm_dagster.render.template import Template

PHOTO_SCHEME = "photo:"
# The key a preview hands its sample photo over under (catalog/preview.py).
SAMPLE_PHOTO_KEY = "assets/renderfarm-preview/sample.png"
_PLACEHOLDER_KEEPS = ("transform", "opacity", "clip-path", "mask")
_Focal = Annotated[
    list[Annotated[float, Field(ge=0, le=1, strict=False)]], Field(min_length=2, max_length=2)
]


@dataclass(frozen=True, kw_only=True)
class ImageLayer(TemplateLayer):
    kind = "image"
    box: Box
    fit: Literal["cover", "contain"]
    focal: tuple[float, float]


@dataclass(frozen=True)
class PlacedImage:
    """An image layer that shows a photo: its box in output pixels and how it is fitted."""

    layer_id: str
    key: str
    width: int
    height: int
    fit: str
    focal: tuple[float, float]


class ImageKind(LayerKind):
    name = ImageLayer.kind
    settings: ClassVar[Mapping[str, Any]] = {
        "image": AssetKey | None,
        "fit": Literal["cover", "contain"] | None,
        "focal": _Focal | None,
    }
    values = ("image", "fit", "focal")

    def parse(
        self, element: ET.Element, identity: dict[str, Any], reader: ElementReader
    ) -> ImageLayer | None:
        box = reader.box(element)
        fit = reader.choice(element, "rf:fit", "cover", ("cover", "contain"))
        focal = floats(reader.rf(element, "focal", "0.5 0.5"), 2)
        if focal is None or not all(0 <= value <= 1 for value in focal):
            reader.problem(element, 'rf:focal must be two numbers from 0 to 1, e.g. "0.5 0.3"')
            focal = [0.5, 0.5]
        if box is None:
            return None
        return ImageLayer(**identity, box=box, fit=fit, focal=(focal[0], focal[1]))  # type: ignore[arg-type]

    def value_fields(self, settings: Mapping[str, Any], locale: str) -> dict[str, Any]:
        focal = settings.get("focal")
        return {**settings, "focal": (focal[0], focal[1]) if focal else None}

    def photo_keys(self, value: LayerValue) -> set[str]:
        return {value.get("image")} if value.get("image") is not None else set()

    def lay_out(
        self,
        layers: list[TemplateLayer],
        values: Mapping[str, LayerValue],
        document: LayoutDocument,
    ) -> None:
        for layer in layers:
            assert isinstance(layer, ImageLayer)
            value = values.get(layer.id, LayerValue())
            placeholder = document.ids[layer.id]
            if is_hidden(layer, value):
                document.remove(placeholder)
            elif value.get("image") is not None:
                document.replace(placeholder, _image_element(layer, placeholder))

    def preview_value(self, layer: TemplateLayer) -> LayerValue:
        return LayerValue(image=SAMPLE_PHOTO_KEY, hidden=False)


KIND = ImageKind()


def placed_images(
    template: Template, values: Mapping[str, LayerValue], width: int, height: int
) -> list[PlacedImage]:
    """The photos an output of `width` x `height` shows, each with its box in output pixels."""
    _, _, view_width, view_height = template.view_box(Fraction(width, height))
    scale_x, scale_y = width / view_width, height / view_height
    placed = []
    for layer in template.layers.values():
        if not isinstance(layer, ImageLayer):
            continue
        value = values.get(layer.id, LayerValue())
        if value.get("image") is None or is_hidden(layer, value):
            continue
        placed.append(
            PlacedImage(
                layer_id=layer.id,
                key=value.get("image"),
                width=max(1, round(layer.box.width * scale_x)),
                height=max(1, round(layer.box.height * scale_y)),
                fit=value.get("fit") or layer.fit,
                focal=value.get("focal") or layer.focal,
            )
        )
    return placed


def _image_element(layer: ImageLayer, placeholder: ET.Element) -> ET.Element:
    attributes = {
        "id": layer.id,
        "x": number_text(layer.box.x),
        "y": number_text(layer.box.y),
        "width": number_text(layer.box.width),
        "height": number_text(layer.box.height),
        # The photo is already fitted to the box's shape in output pixels.
        "preserveAspectRatio": "none",
        "href": f"{PHOTO_SCHEME}{layer.id}",
    }
    for name in _PLACEHOLDER_KEEPS:
        if placeholder.get(name) is not None:
            attributes[name] = placeholder.get(name)
    return ET.Element("image", attributes)
