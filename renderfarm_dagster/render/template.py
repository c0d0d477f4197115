"""Template files: SVG documents whose elements with an `id` and an `rf:layer` are layers a spec
fills. Parsing validates the document as untrusted input and names the element and line of
every problem.

A layer is declared with attributes in the namespace `urn:renderfarm:template:1` (prefix `rf`),
which Inkscape and Figma keep on export (README, "Templates"):

- text:  `<text id="title" rf:layer="text" rf:box="x y w h" rf:max-lines="2" rf:min-size="34"
          font-size="64">Default</text>`: wrapped to at most max-lines lines of the box's width,
          shrunk from font-size down to min-size, then cut with an ellipsis.
- image: a placeholder element (a `rect`, or any element with `rf:box`) whose box receives a
          photo: `rf:fit="cover"` (with `rf:focal="0.5 0.3"`) or `"contain"`. Without a photo the
          placeholder draws as designed.
- color: a shape whose fill (or stroke, `rf:target="stroke"`) a spec sets; other elements
          follow it with `rf:fill="<layer id>"` or `rf:stroke="<layer id>"`.
Any layer can be hidden (`rf:hidden="true"` as its default) or `rf:required="true"`.
"""

from __future__ import annotations

import hashlib
import re
import xml.parsers.expat
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal
from xml.etree import ElementTree as ET

from renderfarm_dagster.keys import ID_PATTERN
from renderfarm_dagster.problems import FileProblems
from renderfarm_dagster.render.fonts import DEFAULT_FAMILY, GENERIC_FAMILIES, bundled_families

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
RF_NS = "urn:renderfarm:template:1"
XML_NS = "http://www.w3.org/XML/1998/namespace"

# Documented limits (README, "Templates"): a template is a layout, not an illustration archive.
MAX_TEMPLATE_BYTES = 512 * 1024
MAX_ELEMENTS = 4000
MAX_DEPTH = 48
MAX_USE_ELEMENTS = 200
MAX_DESIGN_SIZE = 10_000.0

# Drawing and structure elements cairosvg renders; anything else (script, foreignObject,
# image, animation, ...) is refused rather than silently ignored or, worse, fetched.
ALLOWED_ELEMENTS = frozenset(
    {
        "svg", "g", "defs", "symbol", "use", "title", "desc", "metadata", "style",
        "rect", "circle", "ellipse", "line", "polyline", "polygon", "path",
        "text", "tspan", "linearGradient", "radialGradient", "stop", "clipPath", "mask",
        "pattern", "marker", "a",
    }
)  # fmt: skip
# Foreign-namespace elements and attributes editors add (Inkscape, Sodipodi, RDF metadata) are
# inert for cairosvg; they are dropped when parsed, so nothing in them reaches the renderer.
_KEPT_NAMESPACES = (SVG_NS, XLINK_NS, RF_NS, XML_NS)
_URL = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)", re.IGNORECASE | re.DOTALL)
_NUMBER = r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
# What a text layer's layout reads. Editors write these into style="" (Inkscape, Figma); they
# are moved to attributes, where the layout engine reads and replaces them.
_TEXT_STYLE_PROPERTIES = (
    "font-family", "font-size", "font-weight", "text-anchor", "direction", "fill",
)  # fmt: skip


def _promote_style(element: ET.Element, properties: tuple[str, ...]) -> None:
    """Move `properties` from the element's style attribute to attributes (a style declaration
    wins over an attribute, as in CSS); the other declarations stay in style."""
    style = element.get("style")
    if style is None:
        return
    kept = []
    for declaration in style.split(";"):
        name, colon, value = declaration.partition(":")
        name = name.strip().lower()
        if colon and name in properties:
            element.set(name, value.strip())
        elif declaration.strip():
            kept.append(declaration.strip())
    if kept:
        element.set("style", ";".join(kept))
    else:
        del element.attrib["style"]


@dataclass(frozen=True)
class TemplateProblem:
    """One problem, located by element and line (line 0: the document as a whole)."""

    line: int
    element: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "document"
        return (
            f"{where}, <{self.element}>: {self.message}"
            if self.element
            else f"{where}: {self.message}"
        )

    def report(self) -> dict:
        return {"line": self.line, "element": self.element, "message": self.message}


class TemplateError(FileProblems):
    """A template file that cannot be used, with every problem found in it."""

    problems: list[TemplateProblem]


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class TextLayer:
    id: str
    box: Box
    max_lines: int
    max_size: float
    min_size: float
    bold: bool
    anchor: Literal["start", "middle", "end"]
    # The font-family list, first choice first ("sans-serif" is the bundled default stack);
    # the bundled fallbacks follow for characters these lack.
    valign: Literal["top", "middle", "baseline"]
    default: str
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
    required: bool = False
    hidden: bool = False
    line: int = 0  # the element's line in the file, for errors found after parsing
    kind: Literal["text"] = "text"


@dataclass(frozen=True)
class ImageLayer:
    id: str
    box: Box
    fit: Literal["cover", "contain"]
    focal: tuple[float, float]
    required: bool = False
    hidden: bool = False
    kind: Literal["image"] = "image"


@dataclass(frozen=True)
class ColorLayer:
    id: str
    target: Literal["fill", "stroke"]
    default: str
    required: bool = False
    hidden: bool = False
    kind: Literal["color"] = "color"


Layer = TextLayer | ImageLayer | ColorLayer


@dataclass(frozen=True)
class Template:
    """A parsed, validated template: its document, design size and layers."""

    name: str
    sha256: str
    root: ET.Element = field(repr=False, compare=False)
    design_width: float
    design_height: float
    view_x: float
    view_y: float
    # Painted over the whole output when its aspect differs from the design's.
    backdrop: str
    layers: dict[str, Layer]

    @property
    def aspect(self) -> float:
        return self.design_width / self.design_height


def parse_template(
    data: bytes, source: str, name: str, brand_families: frozenset[str] | None = frozenset()
) -> Template:
    """Parse and validate a template file, raising TemplateError listing every problem.

    A text layer's font families must be bundled or among `brand_families` (uploaded fonts);
    None leaves that to the caller (catalog/fonts.py checks it against the catalog's fonts).
    """
    if len(data) > MAX_TEMPLATE_BYTES:
        raise TemplateError(
            source,
            [
                TemplateProblem(
                    0, "", f"file is {len(data)} bytes, over the {MAX_TEMPLATE_BYTES} limit"
                )
            ],
        )
    if not ID_PATTERN.fullmatch(name):
        raise TemplateError(
            source,
            [TemplateProblem(0, "", f"template name {name!r} is not 1-64 of a-z, 0-9, '-', '_'")],
        )
    root, lines = _parse_xml(data, source)
    problems: list[TemplateProblem] = []
    checker = _Checker(lines, problems)
    checker.check_document(root)
    layers = checker.layers(root)
    if brand_families is not None:
        problems += unavailable_font_families(layers.values(), brand_families)
    view = _view_box(root, lines, problems)
    backdrop = root.get(f"{{{RF_NS}}}backdrop", "#ffffff")
    if not _COLOUR.fullmatch(backdrop):
        problems.append(TemplateProblem(lines[root], "svg", "rf:backdrop must be a #rrggbb colour"))
    if problems:
        raise TemplateError(source, problems)
    x, y, width, height = view
    return Template(
        name=name,
        sha256=hashlib.sha256(data).hexdigest(),
        root=root,
        design_width=width,
        design_height=height,
        view_x=x,
        view_y=y,
        backdrop=backdrop.lower(),
        layers=layers,
    )


def unavailable_font_families(
    layers: Iterable[Layer], brand_families: frozenset[str]
) -> list[TemplateProblem]:
    """A problem, at its element's line, for each family a text layer names that is neither
    bundled, generic nor among `brand_families` (the catalog's uploaded fonts)."""
    available = {*bundled_families(), *GENERIC_FAMILIES, *brand_families}
    bundled = ", ".join(bundled_families())
    return [
        TemplateProblem(
            layer.line,
            "text",
            f'layer "{layer.id}": font family "{family}" is neither bundled ({bundled}) nor '
            "uploaded (fonts/<name>.ttf or .otf)",
        )
        for layer in layers
        if isinstance(layer, TextLayer)
        for family in layer.families
        if family not in available
    ]


def _parse_xml(data: bytes, source: str) -> tuple[ET.Element, dict[ET.Element, int]]:
    """The document as elements (foreign namespaces dropped) and each element's line.

    expat with every DTD feature refused: no DOCTYPE, no entity declarations (the billion
    laughs and XXE), no processing instructions.
    """
    parser = xml.parsers.expat.ParserCreate(namespace_separator="}")
    lines: dict[ET.Element, int] = {}
    stack: list[ET.Element] = []
    skipping = [0]  # depth inside a dropped foreign element
    roots: list[ET.Element] = []

    def refuse(what: str):
        def handler(*_args):
            raise _Refused(parser.CurrentLineNumber, what)

        return handler

    def qualified(name: str) -> tuple[str, str]:
        namespace, _, local = name.rpartition("}")
        return namespace, local

    def start(name, attributes):
        namespace, local = qualified(name)
        if skipping[0] or namespace not in (SVG_NS, RF_NS):
            skipping[0] += 1
            return
        if namespace == RF_NS:
            raise _Refused(parser.CurrentLineNumber, f"unknown element rf:{local}")
        kept = {}
        for attribute, value in attributes.items():
            attr_namespace, attr_local = qualified(attribute)
            if not attr_namespace:
                kept[attr_local] = value
            elif attr_namespace in _KEPT_NAMESPACES:
                kept[f"{{{attr_namespace}}}{attr_local}"] = value
        element = ET.Element(local, kept)
        lines[element] = parser.CurrentLineNumber
        if stack:
            stack[-1].append(element)
        else:
            roots.append(element)
        stack.append(element)

    def end(name):
        if skipping[0]:
            skipping[0] -= 1
            return
        stack.pop()

    def characters(text):
        if skipping[0] or not stack:
            return
        element = stack[-1]
        if len(element):
            element[-1].tail = (element[-1].tail or "") + text
        else:
            element.text = (element.text or "") + text

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    parser.StartDoctypeDeclHandler = refuse("a DOCTYPE (DTDs and entities are not allowed)")
    parser.EntityDeclHandler = refuse("an entity declaration")
    parser.ProcessingInstructionHandler = refuse("a processing instruction")
    parser.ExternalEntityRefHandler = refuse("an external entity")
    parser.SetParamEntityParsing(xml.parsers.expat.XML_PARAM_ENTITY_PARSING_NEVER)
    try:
        parser.Parse(data, True)
    except _Refused as refused:
        raise TemplateError(
            source, [TemplateProblem(refused.line, "", f"{refused.what}")]
        ) from None
    except xml.parsers.expat.ExpatError as error:
        message = xml.parsers.expat.ErrorString(error.code)
        problem = TemplateProblem(
            error.lineno, "", f"not well-formed XML: {message} (column {error.offset + 1})"
        )
        raise TemplateError(source, [problem]) from None
    except RecursionError:
        raise TemplateError(source, [TemplateProblem(0, "", "nested too deeply")]) from None
    if not roots or roots[0].tag != "svg":
        raise TemplateError(
            source,
            [
                TemplateProblem(
                    1, "", f"the root element must be <svg> in the SVG namespace {SVG_NS}"
                )
            ],
        )
    return roots[0], lines


class _Refused(Exception):
    def __init__(self, line: int, what: str):
        self.line, self.what = line, what


def _floats(text: str | None, count: int) -> list[float] | None:
    if text is None:
        return None
    parts = re.split(r"[\s,]+", text.strip())
    if len(parts) != count or not all(re.fullmatch(_NUMBER, part) for part in parts):
        return None
    return [float(part) for part in parts]


def _view_box(
    root: ET.Element, lines: dict[ET.Element, int], problems: list[TemplateProblem]
) -> tuple[float, float, float, float]:
    values = _floats(root.get("viewBox"), 4)
    if values is None:
        problems.append(
            TemplateProblem(
                lines[root], "svg", 'needs a viewBox="x y width height" (the design size)'
            )
        )
        return 0.0, 0.0, 1.0, 1.0
    x, y, width, height = values
    if not (0 < width <= MAX_DESIGN_SIZE and 0 < height <= MAX_DESIGN_SIZE):
        problems.append(
            TemplateProblem(
                lines[root],
                "svg",
                f"viewBox size {width:g} x {height:g} is outside 0 to {MAX_DESIGN_SIZE:g}",
            )
        )
        return 0.0, 0.0, 1.0, 1.0
    return x, y, width, height


class _Checker:
    """Walks the document once: security rules, limits, then layer declarations."""

    def __init__(self, lines: dict[ET.Element, int], problems: list[TemplateProblem]):
        self.lines = lines
        self.problems = problems
        self.ids: dict[str, ET.Element] = {}

    def problem(self, element: ET.Element, message: str) -> None:
        self.problems.append(TemplateProblem(self.lines.get(element, 0), element.tag, message))

    def check_document(self, root: ET.Element) -> None:
        count = 0
        uses = []
        for element, depth in _walk(root):
            count += 1
            if depth > MAX_DEPTH:
                self.problem(element, f"nested deeper than {MAX_DEPTH} elements")
                return
            if element.tag not in ALLOWED_ELEMENTS:
                self.problem(element, f"<{element.tag}> is not allowed in a template")
            element_id = element.get("id")
            if element_id is not None:
                if element_id in self.ids:
                    self.problem(element, f'id "{element_id}" is used twice')
                self.ids[element_id] = element
            if element.tag == "use":
                uses.append(element)
            self.check_attributes(element)
            if element.tag == "style":
                self.check_css(element, element.text or "")
        if count > MAX_ELEMENTS:
            self.problems.append(
                TemplateProblem(0, "", f"{count} elements, over the limit of {MAX_ELEMENTS}")
            )
        if len(uses) > MAX_USE_ELEMENTS:
            self.problems.append(
                TemplateProblem(
                    0, "", f"{len(uses)} <use> elements, over the limit of {MAX_USE_ELEMENTS}"
                )
            )
        for use in uses:
            target = self.ids.get(_href(use)[1:] if _href(use) else "")
            # One level of reuse only: a <use> of something containing a <use> could expand
            # exponentially (the SVG form of billion laughs).
            if target is not None and any(e.tag == "use" for e, _ in _walk(target)):
                self.problem(use, "refers to an element that contains <use> (nested reuse)")

    def check_attributes(self, element: ET.Element) -> None:
        for name, value in element.attrib.items():
            local = name.rpartition("}")[2]
            if local.lower().startswith("on"):
                self.problem(element, f"event-handler attribute {local} is not allowed")
            elif local == "href":
                if not value.startswith("#"):
                    self.problem(element, f"{local}={value[:80]!r} refers outside the document")
            elif local == "style":
                self.check_css(element, value)
            else:
                for match in _URL.finditer(value):
                    if not match.group(2).startswith("#"):
                        self.problem(
                            element,
                            f"{local} refers outside the document: url({match.group(2)[:80]})",
                        )

    def check_css(self, element: ET.Element, css: str) -> None:
        if re.search(r"@import", css, re.IGNORECASE):
            self.problem(element, "CSS @import is not allowed")
        for match in _URL.finditer(css):
            if not match.group(2).startswith("#"):
                self.problem(
                    element, f"CSS refers outside the document: url({match.group(2)[:80]})"
                )
        if re.search(r"expression\s*\(|javascript:", css, re.IGNORECASE):
            self.problem(element, "CSS with script is not allowed")

    def layers(self, root: ET.Element) -> dict[str, Layer]:
        layers: dict[str, Layer] = {}
        for element, _ in _walk(root):
            kind = element.get(f"{{{RF_NS}}}layer")
            if kind is None:
                continue
            layer_id = element.get("id")
            if not layer_id or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]{0,63}", layer_id):
                self.problem(element, f'a {kind} layer needs an id of letters, digits, "-", "_"')
                continue
            parse = {
                "text": self.text_layer,
                "image": self.image_layer,
                "color": self.color_layer,
            }.get(kind)
            if parse is None:
                self.problem(element, f'rf:layer="{kind}" is not one of text, image, color')
                continue
            layer = parse(element, layer_id)
            if layer is not None:
                layers[layer_id] = layer
        self.check_references(root, layers)
        return layers

    def rf(self, element: ET.Element, name: str, default: str | None = None) -> str | None:
        return element.get(f"{{{RF_NS}}}{name}", default)

    def flag(self, element: ET.Element, name: str) -> bool:
        value = self.rf(element, name, "false")
        if value not in ("true", "false"):
            self.problem(element, f'rf:{name} must be "true" or "false"')
        return value == "true"

    def number(
        self, element: ET.Element, name: str, default: float | None, low: float, high: float
    ) -> float:
        """An attribute's number (`rf:` names one of ours); `default` None: it is required."""
        raw = self.rf(element, name[3:]) if name.startswith("rf:") else element.get(name)
        if raw is None:
            if default is None:
                self.problem(element, f"{name} is required on this layer")
                return low
            return default
        text = raw.strip().removesuffix("px")
        if not re.fullmatch(_NUMBER, text) or not low <= float(text) <= high:
            self.problem(element, f"{name}={raw!r} is not a number from {low:g} to {high:g}")
            return low
        return float(text)

    def box(self, element: ET.Element) -> Box | None:
        raw = self.rf(element, "box")
        if raw is None and element.tag == "rect":
            limit = MAX_DESIGN_SIZE
            values = [
                self.number(element, name, 0.0 if name in ("x", "y") else None, -limit, limit)
                for name in ("x", "y", "width", "height")
            ]
        else:
            values = _floats(raw, 4)
            if values is None:
                self.problem(element, 'needs rf:box="x y width height"')
                return None
        box = Box(*values)
        if box.width <= 0 or box.height <= 0:
            self.problem(element, "the layer's box must have a positive width and height")
            return None
        return box

    def font_families(self, element: ET.Element) -> tuple[str, ...]:
        """The font-family list ('Brand Sans', sans-serif); which are available is checked
        apart (unavailable_font_families)."""
        families = []
        for entry in element.get("font-family", GENERIC_FAMILIES[0]).split(","):
            family = entry.strip().strip("'\"").strip()
            if not family:
                continue
            if not family.isprintable() or len(family) > 100:
                self.problem(element, f"font family {family[:100]!r} is not a family name")
            families.append(family)
        return tuple(families) or (DEFAULT_FAMILY,)

    def text_layer(self, element: ET.Element, layer_id: str) -> TextLayer | None:
        if element.tag != "text":
            self.problem(element, "a text layer must be a <text> element")
            return None
        _promote_style(element, _TEXT_STYLE_PROPERTIES)
        box = self.box(element)
        families = self.font_families(element)
        direction = element.get("direction")
        if direction not in (None, "ltr", "rtl"):
            self.problem(element, f"direction={direction!r} is not ltr or rtl")
        max_size = self.number(element, "font-size", None, 1, 1000)
        min_size = self.number(element, "rf:min-size", max_size, 1, 1000)
        if min_size > max_size:
            self.problem(element, "rf:min-size is larger than font-size")
        anchor = element.get("text-anchor", "start")
        if anchor not in ("start", "middle", "end"):
            self.problem(element, f"text-anchor={anchor!r} is not start, middle or end")
        valign = self.rf(element, "valign", "top")
        if valign not in ("top", "middle", "baseline"):
            self.problem(element, f"rf:valign={valign!r} is not top, middle or baseline")
        if len(element):
            self.problem(element, "a text layer holds plain text (its default), no child elements")
        weight = element.get("font-weight", "normal")
        if box is None:
            return None
        return TextLayer(
            id=layer_id,
            box=box,
            max_lines=int(self.number(element, "rf:max-lines", 1, 1, 20)),
            max_size=max_size,
            min_size=min_size,
            bold=weight in ("bold", "bolder") or (weight.isdigit() and int(weight) >= 600),
            anchor=anchor,  # type: ignore[arg-type]
            valign=valign,  # type: ignore[arg-type]
            default=" ".join((element.text or "").split()),
            families=families,
            direction=direction if direction in ("ltr", "rtl") else None,  # type: ignore[arg-type]
            below=self.rf(element, "below"),
            gap=self.number(element, "rf:gap", 0.0, 0, MAX_DESIGN_SIZE),
            background=self.rf(element, "background"),
            padding=self.number(element, "rf:padding", 0.0, 0, MAX_DESIGN_SIZE),
            contrast_on=self.rf(element, "contrast-on"),
            required=self.flag(element, "required"),
            hidden=self.flag(element, "hidden"),
            line=self.lines.get(element, 0),
        )

    def image_layer(self, element: ET.Element, layer_id: str) -> ImageLayer | None:
        box = self.box(element)
        fit = self.rf(element, "fit", "cover")
        if fit not in ("cover", "contain"):
            self.problem(element, f"rf:fit={fit!r} is not cover or contain")
        focal = _floats(self.rf(element, "focal", "0.5 0.5"), 2)
        if focal is None or not all(0 <= value <= 1 for value in focal):
            self.problem(element, 'rf:focal must be two numbers from 0 to 1, e.g. "0.5 0.3"')
            focal = [0.5, 0.5]
        if box is None:
            return None
        return ImageLayer(
            id=layer_id,
            box=box,
            fit=fit,  # type: ignore[arg-type]
            focal=(focal[0], focal[1]),
            required=self.flag(element, "required"),
            hidden=self.flag(element, "hidden"),
        )

    def color_layer(self, element: ET.Element, layer_id: str) -> ColorLayer | None:
        target = self.rf(element, "target", "fill")
        if target not in ("fill", "stroke"):
            self.problem(element, f"rf:target={target!r} is not fill or stroke")
            return None
        default = element.get(target, "")
        if not _COLOUR.fullmatch(default):
            self.problem(
                element, f"a color layer's {target} (its default) must be a #rrggbb colour"
            )
            return None
        return ColorLayer(
            id=layer_id,
            target=target,  # type: ignore[arg-type]
            default=default.lower(),
            required=self.flag(element, "required"),
            hidden=self.flag(element, "hidden"),
        )

    def check_references(self, root: ET.Element, layers: dict[str, Layer]) -> None:
        for element, _ in _walk(root):
            for attribute in ("fill", "stroke"):
                followed = self.rf(element, attribute)
                if followed is not None and not isinstance(layers.get(followed), ColorLayer):
                    self.problem(element, f'rf:{attribute}="{followed}" names no color layer')
        for layer in layers.values():
            if not isinstance(layer, TextLayer):
                continue
            element = self.ids[layer.id]
            if layer.below is not None and not isinstance(layers.get(layer.below), TextLayer):
                self.problem(element, f'rf:below="{layer.below}" names no text layer')
            if layer.contrast_on is not None and not isinstance(
                layers.get(layer.contrast_on), ColorLayer
            ):
                self.problem(element, f'rf:contrast-on="{layer.contrast_on}" names no color layer')
            if layer.background is not None:
                background = self.ids.get(layer.background)
                if background is None or background.tag != "rect":
                    self.problem(element, f'rf:background="{layer.background}" names no <rect>')


def _walk(root: ET.Element, depth: int = 0):
    """Elements in document order with their depth, without recursion (depth is untrusted)."""
    stack = [(root, depth)]
    while stack:
        element, level = stack.pop()
        yield element, level
        stack.extend((child, level + 1) for child in reversed(element))


def _href(element: ET.Element) -> str | None:
    return element.get("href") or element.get(f"{{{XLINK_NS}}}href")
