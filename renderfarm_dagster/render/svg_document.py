"""An uploaded SVG document, untrusted: parsed securely and held to the policy of what a template
may contain, with the element and line of every problem.

The parser refuses processing instructions and every DTD feature but the DOCTYPE Illustrator writes
(naming the SVG DTD, which is never read, with a few plain-string entities: _Doctype); it drops
what editors add in their own namespaces (Inkscape, Sodipodi, RDF metadata), so nothing in them
reaches the renderer. The policy allows the drawing and structure elements cairosvg renders, no
reference outside the document (href, url(), CSS @import), no script or event handler, and
bounds the document's size, element count, depth and reuse.
"""

from __future__ import annotations

import re
import xml.parsers.expat
from collections.abc import Iterator
from xml.etree import ElementTree as ET

from renderfarm_dagster.render.errors import TemplateError, TemplateProblem

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
RF_NS = "urn:renderfarm:template:1"
XML_NS = "http://www.w3.org/XML/1998/namespace"
# The basic shapes, and the properties that put markers on a shape's vertices.
SHAPES = frozenset({"rect", "circle", "ellipse", "line", "polyline", "polygon", "path"})
MARKER_PROPERTIES = ("marker", "marker-start", "marker-mid", "marker-end")
# Marks the group of outlines a <text> became (render/static_text.py): text, for a clip path.
TEXT_OUTLINES = f"{{{RF_NS}}}text"

# Documented limits (docs/templates-and-specs.md): a template is a layout, not an illustration
# archive.
# A template may embed a logo or a texture (render/embedded_images.py): measured, a logo of
# 800 x 300 as PNG is 6 KB in base64, a 2,000 px JPEG with a camera's grain 1.2 MB.
MAX_TEMPLATE_BYTES = 2 * 1024 * 1024
MAX_ELEMENTS = 4000
MAX_DEPTH = 48
MAX_USE_ELEMENTS = 200
MAX_DESIGN_SIZE = 10_000.0

# The filter primitives render/svg_filters.py draws; any other is refused.
FILTER_PRIMITIVES = frozenset(
    {
        "feGaussianBlur",
        "feOffset",
        "feFlood",
        "feComposite",
        "feBlend",
        "feColorMatrix",
        "feMerge",
        "feDropShadow",
    }
)
FILTER_ELEMENTS = FILTER_PRIMITIVES | {"filter", "feMergeNode"}
# Documented limits (docs/templates-and-specs.md). A drop shadow is 2 to 7 primitives (Figma
# writes 7); a chain of thousands is a bomb.
MAX_FILTER_PRIMITIVES = 16
# In the template's units; a shadow's blur is a few units, a frosted backdrop a few dozen.
MAX_BLUR_DEVIATION = 100.0
MAX_FILTERED_DRAWS = 64
# Drawing and structure elements cairosvg renders, and the filters render/svg_filters.py draws;
# anything else (script, foreignObject, animation, ...) is refused rather than silently ignored
# or, worse, fetched. An <image> may only embed a bitmap (EMBEDDED_IMAGE), which
# render/embedded_images.py checks as a photo.
_DRAWN_ELEMENTS = frozenset(
    {
        "svg", "g", "defs", "symbol", "use", "title", "desc", "metadata", "style",
        "rect", "circle", "ellipse", "line", "polyline", "polygon", "path",
        "text", "tspan", "linearGradient", "radialGradient", "stop", "clipPath", "mask",
        "pattern", "marker", "a", "image",
    }
)  # fmt: skip
ALLOWED_ELEMENTS = _DRAWN_ELEMENTS | FILTER_ELEMENTS
# Foreign-namespace elements and attributes editors add (Inkscape, Sodipodi, RDF metadata) are
# inert for cairosvg; they are dropped when parsed, so nothing in them reaches the renderer.
_KEPT_NAMESPACES = (SVG_NS, XLINK_NS, RF_NS, XML_NS)
_RF_LAYER = f"{{{RF_NS}}}layer"
# What to do in the design tool about an element a template may not hold.
_FLATTEN = (
    ": of filter effects, the shadows, blurs and tints design tools write are drawn ("
    + ", ".join(sorted(FILTER_PRIMITIVES))
    + "); flatten this effect in the design tool (Figma: Flatten, or export that layer as a PNG "
    "and embed it; Inkscape: Edit > Make a Bitmap Copy) or remove it"
)
_HINTS = {
    "foreignObject": (
        ": Figma writes it for a 'Background blur' effect, which cannot be drawn (flatten that "
        "layer); Illustrator when saving with 'Preserve Illustrator Editing Capabilities' (save "
        "or export the SVG without it)"
    ),
    "switch": (
        ": Illustrator writes it when saving with 'Preserve Illustrator Editing Capabilities'; "
        "save or export the SVG without it"
    ),
    "script": ": a template is a drawing; scripts are never run",
    "animate": ": a template draws one still frame; remove the animation",
    "animateTransform": ": a template draws one still frame; remove the animation",
    "animateMotion": ": a template draws one still frame; remove the animation",
    "set": ": a template draws one still frame; remove the animation",
}
# The one kind of <image> a template may hold: a PNG, JPEG or WebP embedded as base64.
EMBEDDED_IMAGE = re.compile(r"data:image/(png|jpeg|webp);base64,([A-Za-z0-9+/=\s]*)", re.DOTALL)
_URL = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)", re.IGNORECASE | re.DOTALL)
NUMBER = r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"

# An element's line in its file, for problems found after parsing.
Lines = dict[ET.Element, int]


def parse_untrusted_svg(data: bytes, source: str) -> tuple[ET.Element, Lines]:
    """The document as elements (foreign namespaces dropped) and each element's line; raises
    TemplateError for what is not a well-formed SVG document without DTD features."""
    if len(data) > MAX_TEMPLATE_BYTES:
        problem = f"file is {len(data)} bytes, over the {MAX_TEMPLATE_BYTES} limit"
        raise TemplateError(source, [TemplateProblem(0, "", problem)])
    parser = xml.parsers.expat.ParserCreate(namespace_separator="}")
    lines: Lines = {}
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
    doctype = _Doctype(parser)
    parser.StartDoctypeDeclHandler = doctype.start
    parser.EntityDeclHandler = doctype.entity
    for handler in (
        "ElementDeclHandler",
        "AttlistDeclHandler",
        "NotationDeclHandler",
        "UnparsedEntityDeclHandler",
    ):
        setattr(parser, handler, refuse(f"a DOCTYPE with declarations other than {_ENTITIES}"))
    parser.ProcessingInstructionHandler = refuse("a processing instruction")
    parser.ExternalEntityRefHandler = refuse("an external entity")
    # A reference to an entity not declared here (expat skips it when a DTD is named but not
    # read) is refused rather than dropped.
    parser.SkippedEntityHandler = refuse("a reference to an entity the DOCTYPE does not declare")
    # The external DTD an Illustrator DOCTYPE names is never read.
    parser.SetParamEntityParsing(xml.parsers.expat.XML_PARAM_ENTITY_PARSING_NEVER)
    try:
        _check_entity_references(data)
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


# Illustrator writes its namespaces as entities in a DOCTYPE naming the SVG 1.1 DTD:
#   <!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd"
#   [ <!ENTITY ns_svg "http://www.w3.org/2000/svg"> ... ]>
# Such a DOCTYPE is accepted: the DTD it names is never read, and its entities are plain strings
# (no markup, no reference to another entity, no parameter or external entity), few and short,
# and referred to a bounded number of times, so expanding them cannot grow the document much.
_SVG_DTD_PUBLIC_IDS = frozenset(
    {
        "-//W3C//DTD SVG 1.0//EN",
        "-//W3C//DTD SVG 1.1//EN",
        "-//W3C//DTD SVG 1.1 Basic//EN",
        "-//W3C//DTD SVG 1.1 Tiny//EN",
    }
)
MAX_ENTITIES = 32
MAX_ENTITY_CHARS = 256
MAX_ENTITY_REFERENCES = 1000
_ENTITIES = "plain-string entities"
_ENTITY_REFERENCE = re.compile(rb"&([A-Za-z_:][-\w.:]*);")
_PREDEFINED_ENTITIES = frozenset({b"amp", b"lt", b"gt", b"quot", b"apos"})


class _Doctype:
    """The DOCTYPE policy, as expat's handlers: see above."""

    def __init__(self, parser):
        self.parser = parser
        self.entities = 0

    def refuse(self, what: str):
        raise _Refused(self.parser.CurrentLineNumber, what)

    def start(self, name, system_id, public_id, has_internal_subset):
        if name != "svg":
            self.refuse(f"a DOCTYPE for {name!r}, not svg")
        if (system_id or public_id) and (
            public_id not in _SVG_DTD_PUBLIC_IDS
            or not (system_id or "").startswith("http://www.w3.org/")
        ):
            self.refuse(
                "a DOCTYPE naming a DTD other than W3C's SVG DTD "
                f"({public_id or ''} {system_id or ''}".rstrip()
                + ")"
            )

    def entity(self, name, is_parameter, value, base, system_id, public_id, notation):
        self.entities += 1
        if is_parameter:
            self.refuse(f"a parameter entity ({name}) in a DOCTYPE: only {_ENTITIES}")
        if value is None:
            self.refuse(f"an external entity ({name}) in a DOCTYPE: only {_ENTITIES}")
        if "&" in value or "<" in value:
            self.refuse(
                f"an entity ({name}) in a DOCTYPE whose value holds markup or refers to "
                f"another entity: only {_ENTITIES}"
            )
        if len(value) > MAX_ENTITY_CHARS:
            self.refuse(f"an entity ({name}) longer than {MAX_ENTITY_CHARS} characters")
        if self.entities > MAX_ENTITIES:
            self.refuse(f"more than {MAX_ENTITIES} entities in a DOCTYPE")


def _check_entity_references(data: bytes) -> None:
    """Refuses more than MAX_ENTITY_REFERENCES references to declared entities (an expansion
    bomb), before anything is expanded."""
    count = 0
    for match in _ENTITY_REFERENCE.finditer(data):
        if match.group(1) in _PREDEFINED_ENTITIES:
            continue
        count += 1
        if count > MAX_ENTITY_REFERENCES:
            line = data.count(b"\n", 0, match.start()) + 1
            raise _Refused(line, f"more than {MAX_ENTITY_REFERENCES} entity references")


def check_policy(
    root: ET.Element,
    lines: Lines,
    problems: list[TemplateProblem],
    warnings: list[TemplateProblem],
) -> dict[str, ET.Element]:
    """Adds a problem for each breach of the policy, and a warning for what was mended (an id
    used again); returns the document's elements by id."""
    policy = _Policy(lines, problems, warnings)
    policy.check(root)
    return policy.ids


class _Policy:
    def __init__(
        self, lines: Lines, problems: list[TemplateProblem], warnings: list[TemplateProblem]
    ):
        self.lines = lines
        self.problems = problems
        self.warnings = warnings
        self.ids: dict[str, ET.Element] = {}

    def problem(self, element: ET.Element, message: str) -> None:
        self.problems.append(TemplateProblem(self.lines.get(element, 0), element.tag, message))

    def check(self, root: ET.Element) -> None:
        self.leave_out_flowed_text(root)
        count = 0
        uses = []
        repeated: list[ET.Element] = []
        for element, depth in walk(root):
            count += 1
            if depth > MAX_DEPTH:
                self.problem(element, f"nested deeper than {MAX_DEPTH} elements")
                return
            if "href" in element.attrib:
                # SVG 2: href wins over xlink:href; cairosvg reads xlink:href first.
                element.attrib.pop(f"{{{XLINK_NS}}}href", None)
            if element.tag not in ALLOWED_ELEMENTS:
                hint = _HINTS.get(element.tag, _FLATTEN if element.tag.startswith("fe") else "")
                self.problem(element, f"<{element.tag}> is not allowed in a template{hint}")
            element_id = element.get("id")
            if element_id is not None:
                if element_id in self.ids:
                    repeated.append(element)
                else:
                    self.ids[element_id] = element
            if element.tag == "use":
                uses.append(element)
            self.check_attributes(element)
            if element.tag == "style":
                self.check_css(element, element.text or "")
            elif element.tag == "filter":
                self.check_filter(element)
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
        self.resolve_repeated_ids(repeated)
        self.check_reference_cycles(root)
        for use in uses:
            target = self.ids.get(href(use)[1:] if href(use) else "")
            # One level of reuse only: a <use> of something containing a <use> could expand
            # exponentially (the SVG form of billion laughs).
            if target is not None and any(e.tag == "use" for e, _ in walk(target)):
                self.problem(use, "refers to an element that contains <use> (nested reuse)")

    def leave_out_flowed_text(self, root: ET.Element) -> None:
        """Inkscape's flowed text (`flowRoot`, from a draft of SVG 1.2 no browser drew) is left
        out, as browsers leave it out, with a warning: cairosvg would draw its region as a
        black box."""
        stack = [root]
        while stack:
            parent = stack.pop()
            for child in list(parent):
                if child.tag == "flowRoot":
                    parent.remove(child)
                    self.warnings.append(
                        TemplateProblem(
                            self.lines.get(child, 0),
                            "flowRoot",
                            "Inkscape's flowed text is not drawn, as in browsers: to keep it, "
                            "select it in Inkscape and use Text > Convert to Text",
                        )
                    )
                else:
                    stack.append(child)

    def resolve_repeated_ids(self, repeated: list[ET.Element]) -> None:
        """An id used again (Sketch writes them) names its first element, as in browsers: a
        reference goes there. The later elements get ids of their own, with a warning; a layer's
        id must name one element."""
        for element in repeated:
            element_id = element.get("id", "")
            first = self.ids[element_id]
            if _RF_LAYER in element.attrib or _RF_LAYER in first.attrib:
                self.problem(element, f'id "{element_id}" is used twice, and names a layer')
                continue
            number = 2
            while f"{element_id}-{number}" in self.ids:
                number += 1
            renamed = f"{element_id}-{number}"
            element.set("id", renamed)
            self.ids[renamed] = element
            self.warnings.append(
                TemplateProblem(
                    self.lines.get(element, 0),
                    element.tag,
                    f'id "{element_id}" is used again (first at line '
                    f"{self.lines.get(first, 0)}): references to it go to the first element, as "
                    f'in browsers; this one is drawn as "{renamed}"',
                )
            )

    def check_reference_cycles(self, root: ET.Element) -> None:
        """A problem for each reference that leads back to where it is made: a pattern, mask,
        clip path, marker or reused element whose content refers to itself, directly or through
        others, which cairosvg recurses into without end."""
        # An edge from each element with an id to every id referred to inside it (itself or
        # its descendants), with the first element making that reference.
        edges: dict[str, dict[str, ET.Element]] = {}
        stack: list[tuple[ET.Element, tuple[str, ...]]] = [(root, ())]
        while stack:
            element, containers = stack.pop()
            if element.tag in _GRADIENTS:
                continue
            if element.get("id") is not None:
                containers = (*containers, element.get("id"))
            for target in _references(element):
                for container in containers:
                    edges.setdefault(container, {}).setdefault(target, element)
            stack.extend((child, containers) for child in element)
        for cycle in _cycles(edges):
            element = edges[cycle[-2]][cycle[-1]]
            shown = cycle if len(cycle) <= 8 else [*cycle[:4], "...", *cycle[-3:]]
            path = " -> ".join(ident if ident == "..." else f"#{ident}" for ident in shown)
            self.problem(element, f"a reference cycle ({path}) cannot be drawn: break it")

    def check_filter(self, element: ET.Element) -> None:
        """A filter's bounds: few primitives (a chain of thousands is a bomb), blurs of a
        bounded radius."""
        primitives = [child for child in element if child.tag in FILTER_PRIMITIVES]
        if len(primitives) > MAX_FILTER_PRIMITIVES:
            self.problem(
                element,
                f"{len(primitives)} filter primitives, over the limit of {MAX_FILTER_PRIMITIVES}",
            )
        for primitive in primitives:
            deviation = primitive.get("stdDeviation")
            if deviation is None:
                continue
            parts = re.split(r"[\s,]+", deviation.strip())
            if not 1 <= len(parts) <= 2 or not all(re.fullmatch(NUMBER, p) for p in parts):
                self.problem(
                    primitive, f"stdDeviation={deviation[:40]!r} is not one or two numbers"
                )
            elif max(abs(float(p)) for p in parts) > MAX_BLUR_DEVIATION:
                self.problem(
                    primitive,
                    f"a blur of stdDeviation {deviation}, over the limit of {MAX_BLUR_DEVIATION:g}",
                )

    def check_attributes(self, element: ET.Element) -> None:
        for name, value in element.attrib.items():
            local = name.rpartition("}")[2]
            if local.lower().startswith("on"):
                self.problem(element, f"event-handler attribute {local} is not allowed")
            elif local == "href" and element.tag == "image":
                if not EMBEDDED_IMAGE.fullmatch(value.strip()):
                    outside = not value.startswith(("data:", "#"))
                    self.problem(
                        element,
                        f"href={value[:80]!r}"
                        + (" refers outside the document" if outside else "")
                        + ": an <image> may only embed a PNG, JPEG or WebP "
                        "(data:image/png;base64,...); photos are a spec's image layers",
                    )
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


_FILTER_REFERENCE = re.compile(r"none|url\(\s*(['\"]?)#[^'\")]+\1\s*\)", re.IGNORECASE)


def check_filter_references(root: ET.Element, lines: Lines, problems: list[TemplateProblem]):
    """A problem for each filter given as CSS filter functions (blur(), drop-shadow(), ...),
    which are not drawn: a filter must be one <filter> of the document. Run once style sheets
    are applied, so that a rule's filter is seen."""
    for element, _ in walk(root):
        values = [element.get("filter")] + [
            value for name, value in style_declarations(element) if name == "filter"
        ]
        for value in values:
            if value is not None and not _FILTER_REFERENCE.fullmatch(value.strip()):
                problems.append(
                    TemplateProblem(
                        lines.get(element, 0),
                        element.tag,
                        f"filter: {value[:80]} is not drawn: CSS filter functions are not "
                        "supported; use an SVG <filter> (design tools export shadows and blurs "
                        "as one)",
                    )
                )


# Left out of the search: cairosvg follows a gradient's href chain without recursing, cycles
# included, and draws nothing of a gradient's content but its stops.
_GRADIENTS = frozenset({"linearGradient", "radialGradient"})


def _references(element: ET.Element) -> Iterator[str]:
    """The ids an element refers to: its href and every url(#id) in its attributes."""
    reference = href(element)
    if reference and reference.startswith("#"):
        yield reference[1:]
    for name, value in element.attrib.items():
        if "url(" in value and name.rpartition("}")[2] != "href":
            for match in _URL.finditer(value):
                if match.group(2).startswith("#"):
                    yield match.group(2)[1:]


def _cycles(edges: dict[str, dict[str, ET.Element]]) -> Iterator[list[str]]:
    """A path for each reference that closes a cycle (a depth-first search's back edges), in
    time linear in the references: the graph is untrusted."""
    done: set[str] = set()
    for start in edges:
        if start in done:
            continue
        path, on_path = [start], {start}
        pending = [iter(edges.get(start, {}))]
        while pending:
            target = next(pending[-1], None)
            if target is None:
                pending.pop()
                finished = path.pop()
                on_path.discard(finished)
                done.add(finished)
                continue
            if target in on_path:
                yield [*path[path.index(target) :], target]
            elif target not in done:
                path.append(target)
                on_path.add(target)
                pending.append(iter(edges.get(target, {})))


def walk(root: ET.Element, depth: int = 0) -> Iterator[tuple[ET.Element, int]]:
    """Elements in document order with their depth, without recursion (depth is untrusted)."""
    stack = [(root, depth)]
    while stack:
        element, level = stack.pop()
        yield element, level
        stack.extend((child, level + 1) for child in reversed(element))


def href(element: ET.Element) -> str | None:
    """The element's href, SVG 2's or XLink's."""
    return element.get("href") or element.get(f"{{{XLINK_NS}}}href")


def floats(text: str | None, count: int) -> list[float] | None:
    """`count` numbers separated by spaces or commas (a viewBox, a box), else None."""
    if text is None:
        return None
    parts = re.split(r"[\s,]+", text.strip())
    if len(parts) != count or not all(re.fullmatch(NUMBER, part) for part in parts):
        return None
    return [float(part) for part in parts]


_CSS_COMMENT = re.compile(r"/\*.*?(\*/|$)", re.DOTALL)


def style_declarations(element: ET.Element) -> list[tuple[str, str]]:
    """The declarations of an element's style="", in order: (property in lower case, value)."""
    declarations = []
    text = _CSS_COMMENT.sub("", element.get("style") or "")
    for declaration in text.split(";"):
        name, colon, value = declaration.partition(":")
        if colon and name.strip():
            declarations.append((name.strip().lower(), value.strip()))
    return declarations


def property_value(element: ET.Element, name: str) -> str | None:
    """The element's own value of a property: style="" (its last declaration, as in CSS) over
    the presentation attribute; None where it declares none."""
    return dict(style_declarations(element)).get(name, element.get(name))


def set_style(element: ET.Element, declarations: list[tuple[str, str]]) -> None:
    """Write `declarations` as the element's style="" (none: no style attribute)."""
    if declarations:
        element.set("style", ";".join(f"{name}:{value}" for name, value in declarations))
    else:
        element.attrib.pop("style", None)


def promote_style(element: ET.Element, properties: tuple[str, ...]) -> None:
    """Move `properties` from the element's style attribute to attributes (a style declaration
    wins over an attribute, as in CSS); the other declarations stay in style. Editors write
    presentation into style="" (Inkscape, Figma); the layout engine reads attributes."""
    if element.get("style") is None:
        return
    kept = []
    for name, value in style_declarations(element):
        if name in properties:
            element.set(name, value)
        else:
            kept.append((name, value))
    set_style(element, kept)
