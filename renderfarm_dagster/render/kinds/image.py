"""Image layers: a placeholder whose box receives a photo.

    <rect id="photo" rf:layer="image" x=".." y=".." width=".." height=".." rf:fit="cover"
          rf:focal="0.5 0.3"/>              (any element with rf:box="x y w h" will do)

`rf:fit="cover"` fills the box, cropped around the focal point (x and y from 0 to 1; without
one, around the product found in the photo: render/subject.py); `"contain"` shows the whole
photo inside it; `"subject"` scales the product found in the photo to fill the box less
`rf:padding` (a share of the box on each side, default 0.08) and aligns it by `rf:anchor`
("0.5 1": centred, on the bottom edge; default "0.5 0.5"). Without a photo the placeholder
draws as designed. A spec sets `image` (the photo's key, assets/...) and may set `fit`,
`focal`, `padding` and `anchor`.

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
FITS = ("cover", "contain", "subject")
# The subject's padding: at most 0.45 of the box on each side leaves it a tenth of the box.
MAX_PADDING = 0.45
DEFAULT_PADDING = 0.08
_Point = Annotated[
    list[Annotated[float, Field(ge=0, le=1, strict=False)]], Field(min_length=2, max_length=2)
]


@dataclass(frozen=True, kw_only=True)
class ImageLayer(TemplateLayer):
    kind = "image"
    box: Box
    fit: Literal["cover", "contain", "subject"]
    focal: tuple[float, float] | None  # None: the photo's subject decides (cover)
    padding: float = DEFAULT_PADDING
    anchor: tuple[float, float] = (0.5, 0.5)


@dataclass(frozen=True)
class PlacedImage:
    """An image layer that shows a photo: its box in output pixels and how it is fitted."""

    layer_id: str
    key: str
    width: int
    height: int
    fit: str
    focal: tuple[float, float] | None
    padding: float
    anchor: tuple[float, float]

    @property
    def needs_subject(self) -> bool:
        """Whether the photo's subject decides where it sits (render/subject.py)."""
        return self.fit == "subject" or (self.fit == "cover" and self.focal is None)


class ImageKind(LayerKind):
    name = ImageLayer.kind
    settings: ClassVar[Mapping[str, Any]] = {
        "image": AssetKey | None,
        "fit": Literal["cover", "contain", "subject"] | None,
        "focal": _Point | None,
        "padding": Annotated[float, Field(ge=0, le=MAX_PADDING, strict=False)] | None,
        "anchor": _Point | None,
    }
    values = ("image", "fit", "focal", "padding", "anchor")

    def parse(
        self, element: ET.Element, identity: dict[str, Any], reader: ElementReader
    ) -> ImageLayer | None:
        box = reader.box(element)
        fit = reader.choice(element, "rf:fit", "cover", FITS)
        focal = _point(element, "focal", reader)
        anchor = _point(element, "anchor", reader) or (0.5, 0.5)
        padding = reader.number(element, "rf:padding", DEFAULT_PADDING, 0, MAX_PADDING)
        if box is None:
            return None
        return ImageLayer(
            **identity,
            box=box,
            fit=fit,  # type: ignore[arg-type]
            focal=focal,
            padding=padding,
            anchor=anchor,
        )

    def value_fields(self, settings: Mapping[str, Any], locale: str) -> dict[str, Any]:
        points = {
            name: (settings[name][0], settings[name][1]) if settings.get(name) else None
            for name in ("focal", "anchor")
        }
        return {**settings, **points}

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
                padding=_first_set(value.get("padding"), layer.padding),
                anchor=value.get("anchor") or layer.anchor,
            )
        )
    return placed


def subject_photo_keys(template: Template, values: Mapping[str, LayerValue]) -> set[str]:
    """The photos of `values` that are placed by their subject (PlacedImage.needs_subject): the
    same at every output size, so any size answers."""
    return {
        placed.key for placed in placed_images(template, values, 100, 100) if placed.needs_subject
    }


def _first_set(value: float | None, default: float) -> float:
    return default if value is None else value


def _point(element: ET.Element, name: str, reader: ElementReader) -> tuple[float, float] | None:
    """`rf:<name>="x y"`, each from 0 to 1; None when absent."""
    raw = reader.rf(element, name)
    if raw is None:
        return None
    point = floats(raw, 2)
    if point is None or not all(0 <= value <= 1 for value in point):
        reader.problem(element, f'rf:{name} must be two numbers from 0 to 1, e.g. "0.5 0.3"')
        return None
    return point[0], point[1]


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
