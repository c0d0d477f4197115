"""What a layer kind is: the one module that says how a template declares a layer of the kind,
what a spec may set on it, how a variant's value is laid out and what a preview shows.

A kind module (text.py, image.py, color.py) defines its layer type, a subclass of TemplateLayer,
and a LayerKind registered in render/kinds/__init__.py. Everything else reads the registry: the
template parser, the spec's layer settings, the layout engine, fingerprints and previews
(docs/extending.md walks through adding one).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar
from xml.etree import ElementTree as ET

from renderfarm_dagster.layers import LayerValue
from renderfarm_dagster.render.errors import TemplateProblem
from renderfarm_dagster.render.svg_document import MAX_DESIGN_SIZE, NUMBER, RF_NS, Lines, floats

if TYPE_CHECKING:
    from renderfarm_dagster.render.typeset import FontSet, SetText


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True, kw_only=True)
class TemplateLayer:
    """A layer a template declares: an element with an id and `rf:layer="<kind>"`."""

    kind: ClassVar[str]
    id: str
    required: bool = False  # every variant must set it (rf:required="true")
    hidden: bool = False  # hidden unless a spec sets it (rf:hidden="true")
    line: int = 0  # the element's line in the file, for problems found after parsing


class ElementReader:
    """Reads a template's layer attributes, recording a located problem for each bad one (and
    going on with a stand-in, so that one parse reports every problem)."""

    def __init__(self, lines: Lines, problems: list[TemplateProblem], ids: dict[str, ET.Element]):
        self.lines = lines
        self.problems = problems
        self.ids = ids  # the document's elements by id

    def problem(self, element: ET.Element, message: str) -> None:
        self.problems.append(TemplateProblem(self.lines.get(element, 0), element.tag, message))

    def rf(self, element: ET.Element, name: str, default: str | None = None) -> str | None:
        """The element's `rf:<name>` attribute."""
        return element.get(f"{{{RF_NS}}}{name}", default)

    def flag(self, element: ET.Element, name: str) -> bool:
        value = self.rf(element, name, "false")
        if value not in ("true", "false"):
            self.problem(element, f'rf:{name} must be "true" or "false"')
        return value == "true"

    def attribute(self, element: ET.Element, name: str, default: str | None = None) -> str | None:
        """An attribute by its name in templates: `rf:fit` is one of ours, `font-size` SVG's."""
        if name.startswith("rf:"):
            return self.rf(element, name[3:], default)
        return element.get(name, default)

    def choice(self, element: ET.Element, name: str, default: str, allowed: tuple[str, ...]) -> str:
        """An attribute that is one of `allowed`."""
        value = self.attribute(element, name, default)
        if value not in allowed:
            self.problem(element, f"{name}={value!r} is not {_one_of(allowed)}")
            return default
        return value

    def number(
        self, element: ET.Element, name: str, default: float | None, low: float, high: float
    ) -> float:
        """An attribute's number (`rf:` names one of ours); `default` None: it is required."""
        raw = self.attribute(element, name)
        if raw is None:
            if default is None:
                self.problem(element, f"{name} is required on this layer")
                return low
            return default
        text = raw.strip().removesuffix("px")
        if not re.fullmatch(NUMBER, text) or not low <= float(text) <= high:
            self.problem(element, f"{name}={raw!r} is not a number from {low:g} to {high:g}")
            return low
        return float(text)

    def box(self, element: ET.Element) -> Box | None:
        """The layer's box: `rf:box="x y width height"`, or a <rect>'s own geometry."""
        raw = self.rf(element, "box")
        if raw is None and element.tag == "rect":
            limit = MAX_DESIGN_SIZE
            values = [
                self.number(element, name, 0.0 if name in ("x", "y") else None, -limit, limit)
                for name in ("x", "y", "width", "height")
            ]
        else:
            values = floats(raw, 4)
            if values is None:
                self.problem(element, 'needs rf:box="x y width height"')
                return None
        box = Box(*values)
        if box.width <= 0 or box.height <= 0:
            self.problem(element, "the layer's box must have a positive width and height")
            return None
        return box


def _one_of(allowed: tuple[str, ...]) -> str:
    return ", ".join(allowed[:-1]) + f" or {allowed[-1]}"


@dataclass
class LayoutDocument:
    """A copy of a template's document being filled with one variant's values: what each
    kind's layout step reads and changes. Kinds lay out in the registry's order."""

    root: ET.Element
    fonts: FontSet
    language: str
    ids: dict[str, ET.Element] = field(init=False)
    parents: dict[ET.Element, ET.Element] = field(init=False)
    # The colour each color layer shows (its value's, else its default), hidden or not.
    colours: dict[str, str] = field(default_factory=dict)
    # Each shown text layer as it was set: its glyphs, fonts, and characters no font has.
    text: dict[str, SetText] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.ids = {element.get("id"): element for element in self.root.iter() if element.get("id")}
        self.parents = {child: parent for parent in self.root.iter() for child in parent}

    def remove(self, element: ET.Element | None) -> None:
        if element is not None and element in self.parents:
            self.parents[element].remove(element)

    def replace(self, old: ET.Element, new: ET.Element) -> None:
        parent = self.parents[old]
        position = list(parent).index(old)
        new.tail = old.tail
        parent.remove(old)
        parent.insert(position, new)
        self.parents[new] = parent


def is_hidden(layer: TemplateLayer, value: LayerValue) -> bool:
    """A spec's `hidden` wins; a layer a spec gives a value is shown; else the template says."""
    if value.hidden is not None:
        return value.hidden
    if value.fields:
        return False
    return layer.hidden


def number_text(value: float) -> str:
    """A number as SVG text: fixed precision keeps the document byte-identical across runs."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


class LayerKind(ABC):
    """One kind of template layer. `settings` are the fields a spec may set on a layer of the
    kind (pydantic annotations; None when unset); `alternatives` those of them that exclude
    each other (a text layer shows `text` or a `price`); `values` the fields of a LayerValue
    its layout reads, every one of which draws (render/fingerprint.py hashes each one set)."""

    name: ClassVar[str]
    settings: ClassVar[Mapping[str, Any]]
    alternatives: ClassVar[tuple[str, ...]] = ()
    values: ClassVar[tuple[str, ...]]

    @abstractmethod
    def parse(
        self, element: ET.Element, identity: dict[str, Any], reader: ElementReader
    ) -> TemplateLayer | None:
        """The layer an element declares (`identity`: id, required, hidden, line), or None
        with its problems given to `reader`."""

    def check_references(
        self, layers: Mapping[str, TemplateLayer], root: ET.Element, reader: ElementReader
    ) -> None:
        """Problems with what the kind's attributes name (other layers, elements)."""
        return None

    def value_fields(self, settings: Mapping[str, Any], locale: str) -> dict[str, Any]:
        """A spec's settings (those it set) as the value's fields (of `values`), in the
        variant's market."""
        return dict(settings)

    def photo_keys(self, value: LayerValue) -> set[str]:
        """The photos a value shows (their object keys)."""
        return set()

    @abstractmethod
    def lay_out(
        self,
        layers: list[TemplateLayer],
        values: Mapping[str, LayerValue],
        document: LayoutDocument,
    ) -> None:
        """Apply the values of every layer of this kind to the document."""

    def preview_value(self, layer: TemplateLayer) -> LayerValue:
        """What a bare template's preview shows on the layer: its default, shown."""
        return LayerValue(hidden=False)


# Lengths of a stroke, which scale with the transform its path is drawn at.
STROKE_LENGTHS = ("stroke-width", "stroke-dasharray", "stroke-dashoffset")
_STROKE_DEFAULTS = {"stroke-width": "1"}


def outline_strokes(declared: Mapping[str, str | None], scale: float) -> dict[str, str]:
    """Stroke lengths for glyph outlines drawn at scale(1/`scale`) (render/typeset.py's path
    units): each times `scale`, so that the text's stroke keeps the width the design gave it.
    A length in other units than px is left as it is."""
    scaled = {}
    for name in STROKE_LENGTHS:
        value = declared.get(name) or _STROKE_DEFAULTS.get(name)
        if value is None or value.strip() == "none":
            continue
        parts = [part.removesuffix("px") for part in re.split(r"[\s,]+", value.strip())]
        if not all(re.fullmatch(NUMBER, part) for part in parts):
            continue
        scaled[name] = " ".join(number_text(float(part) * scale) for part in parts)
    return scaled
