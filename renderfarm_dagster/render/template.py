"""Template files: SVG documents whose elements with an `id` and an `rf:layer` are layers a spec
fills. Parsing holds the document to the untrusted-SVG policy (render/svg_document.py), reads
each layer through its kind (render/kinds/) and names the element and line of every problem.

A layer is declared with attributes in the namespace `urn:renderfarm:template:1` (prefix `rf`),
which Inkscape and Figma keep on export (docs/templates-and-specs.md): `rf:layer="text"`,
`"image"` or `"color"` (each kind's module says what else it reads). Any layer can be hidden
(`rf:hidden="true"` as its default) or `rf:required="true"`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from xml.etree import ElementTree as ET

from renderfarm_dagster.keys import ID_PATTERN, LAYER_ID_PATTERN
from renderfarm_dagster.render.embedded_images import embed_images
from renderfarm_dagster.render.errors import TemplateError, TemplateProblem
from renderfarm_dagster.render.fonts import GENERIC_FAMILIES, bundled_families
from renderfarm_dagster.render.kinds import KINDS
from renderfarm_dagster.render.kinds.base import ElementReader, TemplateLayer
from renderfarm_dagster.render.kinds.text import TextLayer
from renderfarm_dagster.render.static_text import CSS_GENERIC_FAMILIES, FontUse, static_font_uses
from renderfarm_dagster.render.svg_css import (
    apply_stylesheets,
    normalise_colours,
    resolve_transform_origins,
)
from renderfarm_dagster.render.svg_document import (
    MARKER_PROPERTIES,
    MAX_DESIGN_SIZE,
    RF_NS,
    Lines,
    check_filter_references,
    check_policy,
    floats,
    parse_untrusted_svg,
    property_value,
    set_style,
    style_declarations,
    walk,
)
from renderfarm_dagster.render.svg_gradients import normalise_gradients
from renderfarm_dagster.render.svg_shapes import normalise_shapes

_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


@dataclass(frozen=True)
class DesignFit:
    """The root's preserveAspectRatio: where the design sits in an output of another aspect
    (fractions of the spare room left of and above it; None: "none", stretched to fill), and
    whether it fills the output and is cropped (slice) rather than shown whole (meet)."""

    align: tuple[float, float] | None
    slice: bool


_ALIGNS = {"min": 0.0, "mid": 0.5, "max": 1.0}
_PRESERVE_ASPECT_RATIO = re.compile(
    r"\s*(?:none|x(min|mid|max)y(min|mid|max))(?:\s+(meet|slice))?\s*", re.IGNORECASE
)


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
    layers: dict[str, TemplateLayer]
    # How outputs of another aspect hold the design (the root's preserveAspectRatio).
    fit: DesignFit = field(default_factory=lambda: DesignFit((0.5, 0.5), False))
    # What was accepted but mended, for whoever uploaded it to hear (an id used again).
    warnings: tuple[TemplateProblem, ...] = ()
    # The bitmaps it embeds, checked and as PNG, by the URL their <image> now names.
    embedded_images: Mapping[str, bytes] = field(default_factory=dict, repr=False, compare=False)
    # The fonts its own text (not its layers) is set in.
    static_fonts: tuple[FontUse, ...] = ()
    # Whether any element blends with what is under it (mix-blend-mode).
    blends: bool = False

    @property
    def aspect(self) -> float:
        return self.design_width / self.design_height

    @property
    def stretched(self) -> bool:
        """Whether outputs of another aspect stretch the design (preserveAspectRatio="none")."""
        return self.fit.align is None

    def view_box(self, aspect: Fraction) -> tuple[float, float, float, float]:
        """The viewBox for an output of `aspect` (width/height), as the root's
        preserveAspectRatio places the design in it: by default whole and centred (the margins
        the backdrop), aligned to a side (xMaxYMax), filling it and cropped (slice), or, with
        "none", the design box itself, stretched."""
        width, height = self.design_width, self.design_height
        if self.fit.align is None:
            return self.view_x, self.view_y, width, height
        wider = aspect > Fraction(width) / Fraction(height)
        if wider != self.fit.slice:
            width = height * float(aspect)
        else:
            height = width / float(aspect)
        align_x, align_y = self.fit.align
        x = self.view_x + (self.design_width - width) * align_x
        y = self.view_y + (self.design_height - height) * align_y
        return x, y, width, height


def parse_template(
    data: bytes, source: str, name: str, brand_families: frozenset[str] | None = frozenset()
) -> Template:
    """Parse and validate a template file, raising TemplateError listing every problem.

    A text layer's font families must be bundled or among `brand_families` (uploaded fonts);
    None leaves that to the caller (catalog/fonts.py checks it against the catalog's fonts).
    """
    root, lines = parse_untrusted_svg(data, source)
    if not ID_PATTERN.fullmatch(name):
        raise TemplateError(
            source,
            [TemplateProblem(0, "", f"template name {name!r} is not 1-64 of a-z, 0-9, '-', '_'")],
        )
    problems: list[TemplateProblem] = []
    warnings: list[TemplateProblem] = []
    ids = check_policy(root, lines, problems, warnings)
    if not problems:
        apply_stylesheets(root, lines, warnings)
        normalise_colours(root, lines, problems)
        check_filter_references(root, lines, problems)
    embedded = embed_images(root, lines, problems) if not problems else {}
    layers = _layers(root, ElementReader(lines, problems, ids))
    static_fonts = static_font_uses(root, lines)
    if brand_families is not None:
        problems += unavailable_font_families(layers.values(), brand_families)
        problems += unavailable_static_fonts(static_fonts, brand_families)
    view = _view_box(root, lines, problems)
    if not problems:
        resolve_transform_origins(root, (view[2], view[3]))
        normalise_shapes(root, view[2], view[3])
        normalise_gradients(root)
        _give_markers_their_view_box(root)
        _apply_paint_order(root)
    fit = _design_fit(root, lines, problems)
    backdrop = root.get(f"{{{RF_NS}}}backdrop", "#ffffff")
    if not _COLOUR.fullmatch(backdrop):
        problems.append(TemplateProblem(lines[root], "svg", "rf:backdrop must be a #rrggbb colour"))
    if problems:
        raise TemplateError(source, problems)
    x, y, width, height = view
    template = Template(
        name=name,
        sha256=hashlib.sha256(data).hexdigest(),
        root=root,
        design_width=width,
        design_height=height,
        view_x=x,
        view_y=y,
        backdrop=backdrop.lower(),
        layers=layers,
        fit=fit,
        warnings=tuple(warnings),
        embedded_images=embedded,
        static_fonts=static_fonts,
        blends=any(
            property_value(element, "mix-blend-mode") not in (None, "normal")
            for element in root.iter()
        ),
    )
    # Imported here: the trial lays the template out, and the layout reads templates.
    from renderfarm_dagster.render.trial import drawing_problems

    problems = drawing_problems(template, lines)
    if problems:
        raise TemplateError(source, problems)
    return template


def _layers(root: ET.Element, reader: ElementReader) -> dict[str, TemplateLayer]:
    """Each element's layer declaration, read by its kind; then what layers name checked."""
    layers: dict[str, TemplateLayer] = {}
    for element, _ in walk(root):
        kind_name = reader.rf(element, "layer")
        if kind_name is None:
            continue
        layer_id = element.get("id")
        if not layer_id or not LAYER_ID_PATTERN.fullmatch(layer_id):
            reader.problem(element, f'a {kind_name} layer needs an id of letters, digits, "-", "_"')
            continue
        kind = KINDS.get(kind_name)
        if kind is None:
            known = ", ".join(sorted(KINDS))
            reader.problem(element, f'rf:layer="{kind_name}" is not one of {known}')
            continue
        identity = {
            "id": layer_id,
            "required": reader.flag(element, "required"),
            "hidden": reader.flag(element, "hidden"),
            "line": reader.lines.get(element, 0),
        }
        layer = kind.parse(element, identity, reader)
        if layer is not None:
            layers[layer_id] = layer
    for kind in KINDS.values():
        kind.check_references(layers, root, reader)
    return layers


def _font_file_for(family: str, bold: bool) -> str:
    """Where a brand font would be uploaded: fonts/acme-sans-bold.ttf for "Acme Sans" bold."""
    slug = re.sub(r"[^a-z0-9]+", "-", family.lower()).strip("-")[:50] or "font"
    return f"fonts/{slug}-{'bold' if bold else 'regular'}.ttf"


def unavailable_font_families(
    layers: Iterable[TemplateLayer], brand_families: frozenset[str]
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
            f"uploaded: upload it first, as {_font_file_for(family, layer.bold)} (or .otf)",
            missing_font=_font_file_for(family, layer.bold),
        )
        for layer in layers
        if isinstance(layer, TextLayer)
        for family in layer.families
        if family not in available
    ]


def unavailable_static_fonts(
    uses: Iterable[FontUse], brand_families: frozenset[str]
) -> list[TemplateProblem]:
    """A problem, at its first use, for each family the template's own text was designed in (a
    run's first) that is neither bundled, generic nor uploaded: drawn in another font, it
    would not be the design."""
    available = {*bundled_families(), *CSS_GENERIC_FAMILIES, *brand_families}
    problems: dict[str, TemplateProblem] = {}
    for use in uses:
        family = use.families[0]
        if family in available or family in problems:
            continue
        problems[family] = TemplateProblem(
            use.line,
            use.element,
            f'font family "{family}" is not in the catalog: upload it first, as '
            f"{_font_file_for(family, use.bold)} (or .otf), or outline the text in the design "
            "tool (Inkscape: Path > Object to Path; Figma: Flatten; Illustrator: Type > "
            "Create Outlines)",
            missing_font=_font_file_for(family, use.bold),
        )
    return list(problems.values())


def _design_fit(root: ET.Element, lines: Lines, problems: list[TemplateProblem]) -> DesignFit:
    value = root.get("preserveAspectRatio")
    if value is None:
        return DesignFit((0.5, 0.5), False)
    match = _PRESERVE_ASPECT_RATIO.fullmatch(value)
    if match is None:
        problems.append(
            TemplateProblem(
                lines[root],
                "svg",
                f"preserveAspectRatio={value!r} is not none or xMinYMin to xMaxYMax, with meet or "
                "slice",
            )
        )
        return DesignFit((0.5, 0.5), False)
    x, y, meet_or_slice = match.groups()
    if x is None:
        return DesignFit(None, False)
    return DesignFit(
        (_ALIGNS[x.lower()], _ALIGNS[y.lower()]), (meet_or_slice or "").lower() == "slice"
    )


_PAINTS = ("fill", "stroke", "markers")
# What applies to the element as a whole, kept on the group its painted copies share.
_WHOLE_ELEMENT = ("id", "transform", "opacity", "clip-path", "mask", "filter")


def _apply_paint_order(root: ET.Element) -> None:
    """`paint-order` (SVG 2; cairosvg paints fill, stroke, markers whatever it says): an element
    painted in another order becomes a group of copies, each painting one of them, in that
    order. Layers and what follows them keep their element (their id, their colour)."""
    parents = {child: parent for parent in root.iter() for child in parent}
    for element in list(root.iter()):
        order = _paint_order(element)
        if order is None or element in (root,) or element.tag in ("text", "tspan", "g"):
            continue
        if any(name.startswith(f"{{{RF_NS}}}") for name in element.attrib):
            continue
        declarations = [(n, v) for n, v in style_declarations(element) if n != "paint-order"]
        group = ET.Element("g")
        whole = [(n, v) for n, v in declarations if n in _WHOLE_ELEMENT]
        for name in _WHOLE_ELEMENT:
            if name in element.attrib:
                group.set(name, element.attrib.pop(name))
        set_style(group, whole)
        element.attrib.pop("paint-order", None)
        kept = [(n, v) for n, v in declarations if n not in _WHOLE_ELEMENT]
        for paint in order:
            copy_ = ET.SubElement(group, element.tag, dict(element.attrib))
            copy_.extend(list(element))
            overrides = [(n, "none") for n in ("fill", "stroke") if n != paint]
            overrides += [(n, "none") for n in MARKER_PROPERTIES if paint != "markers"]
            set_style(copy_, [(n, v) for n, v in kept if n not in dict(overrides)] + overrides)
        parent = parents[element]
        position = list(parent).index(element)
        group.tail = element.tail
        parent.remove(element)
        parent.insert(position, group)


def _paint_order(element: ET.Element) -> list[str] | None:
    """The element's paint order if it is not the default (fill, stroke, markers)."""
    value = property_value(element, "paint-order")
    if value is None:
        return None
    tokens = value.split()
    if not tokens or tokens == ["normal"] or not set(tokens) <= set(_PAINTS):
        return None
    if len(set(tokens)) != len(tokens):
        return None
    order = tokens + [paint for paint in _PAINTS if paint not in tokens]
    return None if order == list(_PAINTS) else order


def _give_markers_their_view_box(root: ET.Element) -> None:
    """A marker without a viewBox draws its content unscaled, clipped to its size (SVG);
    cairosvg scales such content to fit instead. The viewBox of its own size says the same to
    cairosvg."""
    for marker in root.iter("marker"):
        if marker.get("viewBox") is None:
            width = _px(marker.get("markerWidth", "3"))
            height = _px(marker.get("markerHeight", "3"))
            if width and height and width > 0 and height > 0:
                marker.set("viewBox", f"0 0 {width:g} {height:g}")


def _px(length: str | None) -> float | None:
    """A length in px (or unitless), else None."""
    if length is None:
        return None
    number = floats(length.strip().removesuffix("px"), 1)
    return number[0] if number else None


def _view_box(
    root: ET.Element, lines: Lines, problems: list[TemplateProblem]
) -> tuple[float, float, float, float]:
    values = floats(root.get("viewBox"), 4)
    if values is None:
        # Without a viewBox, the design is its width and height in user units (px), as in
        # browsers: some exporters leave the viewBox out.
        size = [_px(root.get("width")), _px(root.get("height"))]
        if None in size:
            problems.append(
                TemplateProblem(
                    lines[root],
                    "svg",
                    'needs a viewBox="x y width height", or a width and height in px (the '
                    "design size)",
                )
            )
            return 0.0, 0.0, 1.0, 1.0
        values = [0.0, 0.0, *size]
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
