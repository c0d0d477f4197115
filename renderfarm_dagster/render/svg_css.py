"""A template's CSS, applied once when it is parsed. Design tools write presentation into `<style>`
sheets (Illustrator's classes), `style=""` (Inkscape, Figma) and `currentColor` (icon sets); the
layers need to read and set a design's colours wherever it declared them, and what the farm adds
to a document later (the backdrop, laid-out text) must not be matched by the template's
selectors. So every sheet's rules are matched against the document here, with tinycss2 and
cssselect2 as cairosvg matches them, written into each element's `style=""` in cascade order,
and the sheets removed; `currentColor` becomes the colour the element inherits.
"""

from __future__ import annotations

import re
from xml.etree import ElementTree as ET

import cssselect2
import tinycss2
from tinycss2 import color4

from renderfarm_dagster.render.errors import TemplateProblem
from renderfarm_dagster.render.svg_document import (
    NUMBER,
    Lines,
    href,
    property_value,
    set_style,
    style_declarations,
    walk,
)

_PAINTS = ("fill", "stroke", "stop-color", "flood-color", "lighting-color")
# CSS properties that SVG does not take as attributes: browsers ignore such an attribute, and so
# does the farm (cairosvg reads attributes and style="" alike, so they are removed).
_NOT_PRESENTATION_ATTRIBUTES = ("mix-blend-mode", "isolation")


def apply_stylesheets(root: ET.Element, lines: Lines, warnings: list[TemplateProblem]) -> None:
    """Write the document's `<style>` rules into the `style=""` of the elements they match, in
    CSS's cascade order, remove the sheets, and resolve `currentColor`. Attributes of CSS
    properties that are not presentation attributes are removed: they do nothing in browsers."""
    for element in root.iter():
        for name in _NOT_PRESENTATION_ATTRIBUTES:
            element.attrib.pop(name, None)
    # A sheet of another type than CSS is not read, as in browsers.
    styles = [element for element, _ in walk(root) if element.tag == "style"]
    sheets = [s for s in styles if s.get("type", "text/css").strip() in ("text/css", "")]
    normal, important = cssselect2.Matcher(), cssselect2.Matcher()
    for sheet in sheets:
        _add_rules(sheet, sheet.text or "", normal, important, lines, warnings)
    if sheets:
        for wrapper in cssselect2.ElementWrapper.from_xml_root(root).iter_subtree():
            _cascade(wrapper, normal, important)
    if styles:
        parents = {child: parent for parent in root.iter() for child in parent}
        for style in styles:
            parents[style].remove(style)
    _resolve_paint_references(root)
    _resolve_current_color(root)


def _add_rules(sheet, css, normal, important, lines, warnings) -> None:
    for rule in tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True):
        if rule.type == "error":
            warnings.append(
                TemplateProblem(
                    lines.get(sheet, 0),
                    "style",
                    f"CSS that cannot be read ({rule.message}) is ignored",
                )
            )
            continue
        if rule.type != "qualified-rule":
            continue  # at-rules (@media, @font-face) apply to no static drawing here
        declarations = _declarations(rule.content)
        try:
            selectors = cssselect2.compile_selector_list(rule.prelude)
        except cssselect2.SelectorError as error:
            selector = tinycss2.serialize(rule.prelude).strip()
            warnings.append(
                TemplateProblem(
                    lines.get(sheet, 0),
                    "style",
                    f"CSS selector {selector!r} is not supported ({error}): its rule is ignored",
                )
            )
            continue
        for selector in selectors:
            if selector.pseudo_element is not None or selector.never_matches:
                continue
            for matcher, chosen in ((normal, False), (important, True)):
                chosen_declarations = [(n, v) for n, v, i in declarations if i == chosen]
                if chosen_declarations:
                    matcher.add_selector(selector, chosen_declarations)


def _declarations(tokens) -> list[tuple[str, str, bool]]:
    return [
        (d.lower_name, tinycss2.serialize(d.value).strip(), d.important)
        for d in tinycss2.parse_declaration_list(tokens, skip_comments=True, skip_whitespace=True)
        if d.type == "declaration" and not d.lower_name.startswith("-")
    ]


def _cascade(wrapper, normal, important) -> None:
    """The element's style="" as the cascade makes it: matched normal rules by specificity and
    order, its own style="", then matched !important rules, then its own !important ones."""
    element = wrapper.etree_element
    own = _declarations(element.get("style", ""))
    merged: dict[str, str] = {}
    for declarations in _matched(normal, wrapper):
        merged.update(declarations)
    merged.update((name, value) for name, value, flagged in own if not flagged)
    for declarations in _matched(important, wrapper):
        merged.update(declarations)
    merged.update((name, value) for name, value, flagged in own if flagged)
    if merged:
        set_style(element, list(merged.items()))


def _matched(css_rules: cssselect2.Matcher, wrapper) -> list[list[tuple[str, str]]]:
    """The declarations of the rules matching an element, by specificity then order."""
    return [declarations for *_, declarations in css_rules.match(wrapper) or []]


# Content drawn where it is used (by <use>, or as a paint, mask, clip or marker), whose
# currentColor is the user's: left for the renderer to resolve in place.
_DRAWN_ELSEWHERE = frozenset({"defs", "symbol", "pattern", "mask", "clipPath", "marker"})


def _resolve_current_color(root: ET.Element) -> None:
    """`currentColor` in a paint of content drawn in place becomes the `color` each element has
    (black by default), so that a layer reads and sets a concrete colour. A fill or stroke of
    currentColor is inherited as the keyword (CSS Color 4): each element inheriting it gets its
    own colour, which a `color` set between them changes."""
    stack: list[tuple[ET.Element, str, frozenset[str]]] = [(root, "black", frozenset())]
    while stack:
        element, inherited, current = stack.pop()
        if element.tag in _DRAWN_ELSEWHERE:
            continue
        color = property_value(element, "color")
        if color is None or color.lower() in ("inherit", "currentcolor"):
            color = inherited
        declared = dict(style_declarations(element))
        for paint in ("fill", "stroke"):
            own = declared.get(paint, element.get(paint))
            if own is None or own.strip().lower() == "inherit":
                if paint in current:
                    element.set(paint, color)
            elif own.strip().lower() == "currentcolor":
                current = current | {paint}
            else:
                current = current - {paint}
        for paint in _PAINTS:
            if (element.get(paint) or "").strip().lower() == "currentcolor":
                element.set(paint, color)
        if "currentcolor" in (element.get("style") or "").lower():
            set_style(
                element,
                [
                    (name, color if name in _PAINTS and value.lower() == "currentcolor" else value)
                    for name, value in style_declarations(element)
                ],
            )
        stack.extend((child, color, current) for child in element)


# Each paint property's opacity, which a colour's alpha multiplies.
_PAINT_OPACITY = {
    "fill": "fill-opacity",
    "stroke": "stroke-opacity",
    "stop-color": "stop-opacity",
    "flood-color": "flood-opacity",
}


def normalise_colours(root: ET.Element, lines: Lines, problems: list[TemplateProblem]) -> None:
    """Every colour CSS allows (`#rgba`, `#rrggbbaa`, `hsl()`, `rgb()` with spaces or
    percentages, ...) as the `#rrggbb` cairosvg reads, its alpha moved into the paint's opacity
    (cairosvg misreads or refuses the others). A colour tinycss2 cannot bring to sRGB (lab(),
    color(display-p3 ...)) is a problem: cairosvg would draw it black. Run once sheets are
    applied and currentColor resolved."""
    for element in root.iter():
        paints = [(name, value, False) for name, value in element.attrib.items()]
        paints += [(name, value, True) for name, value in style_declarations(element)]
        for paint, value, in_style in paints:
            if paint in _PAINTS and not _set_colour(element, paint, value, in_style):
                problems.append(
                    TemplateProblem(
                        lines.get(element, 0),
                        element.tag,
                        f"{paint} {value[:60]} is in a colour space that cannot be drawn: give "
                        "it in sRGB (#rrggbb, rgb() or hsl())",
                    )
                )


_PAINT_SERVERS = frozenset({"linearGradient", "radialGradient", "pattern"})
_PAINT_REFERENCE = re.compile(r"\s*url\(\s*['\"]?#([^'\")]+)['\"]?\s*\)\s*(.*)", re.DOTALL)


def _resolve_paint_references(root: ET.Element) -> None:
    """A paint naming a paint server with a fallback (`url(#g) green`): the server where the
    document has it, else the fallback (else none), as SVG says; cairosvg reads neither."""
    servers = {
        e.get("id")
        for e in root.iter()
        if e.tag in _PAINT_SERVERS
        and e.get("id")
        # A gradient without stops of its own or borrowed (href) is no paint server.
        and (e.tag == "pattern" or any(child.tag == "stop" for child in e) or href(e))
    }
    for element in root.iter():
        for paint in ("fill", "stroke"):
            value = element.get(paint)
            if value is not None:
                resolved = _resolved_paint(value, servers)
                if resolved != value:
                    element.set(paint, resolved)
        declarations = style_declarations(element)
        resolved_style = [
            (name, _resolved_paint(value, servers) if name in ("fill", "stroke") else value)
            for name, value in declarations
        ]
        if resolved_style != declarations:
            set_style(element, resolved_style)


def _resolved_paint(value: str, servers: set[str]) -> str:
    match = _PAINT_REFERENCE.fullmatch(value)
    if match is None:
        return value
    if match.group(1) in servers:
        return f"url(#{match.group(1)})"
    return match.group(2).strip() or "none"


def _set_colour(element: ET.Element, paint: str, value: str, in_style: bool) -> bool:
    """Write the paint as #rrggbb and its alpha as opacity; False for a colour in a space
    tinycss2 does not convert to sRGB."""
    colour = color4.parse_color(value)
    if not isinstance(colour, color4.Color):
        return True  # none, url(), currentColor, or not a colour (the trial drawing judges)
    try:
        red, green, blue = colour.to("srgb").coordinates
    except NotImplementedError:
        return False
    hex_colour = "#" + "".join(
        f"{round(max(0.0, min(1.0, c)) * 255):02x}" for c in (red, green, blue)
    )
    updates = {paint: hex_colour}
    opacity_name = _PAINT_OPACITY.get(paint)
    if colour.alpha < 1 and opacity_name is not None:
        own = property_value(element, opacity_name) if in_style else element.get(opacity_name)
        try:
            opacity = float(own) if own is not None else 1.0
        except ValueError:
            opacity = 1.0
        updates[opacity_name] = f"{opacity * colour.alpha:g}"
    if in_style:
        declarations = dict(style_declarations(element))
        declarations.update(updates)
        set_style(element, list(declarations.items()))
    else:
        for name, new_value in updates.items():
            element.set(name, new_value)
    return True


_ORIGIN_KEYWORDS = {"left": 0.0, "center": 0.5, "right": 1.0, "top": 0.0, "bottom": 1.0}
_ORIGIN_PART = re.compile(rf"({NUMBER})(px|%)?", re.IGNORECASE)


# Where a paint server keeps its transform.
_TRANSFORMS = {
    "linearGradient": "gradientTransform",
    "radialGradient": "gradientTransform",
    "pattern": "patternTransform",
}


def resolve_transform_origins(root: ET.Element, extent: tuple[float, float]) -> None:
    """`transform-origin` (SVG 2, CSS) folded into each element's transform as translations
    around it, relative to the view box as CSS's view-box reference says; cairosvg measures
    its keywords against the output's pixels instead. A value it cannot read is left out."""
    for element in root.iter():
        origin = property_value(element, "transform-origin")
        if origin is None:
            continue
        element.attrib.pop("transform-origin", None)
        set_style(
            element,
            [(n, v) for n, v in style_declarations(element) if n != "transform-origin"],
        )
        point = _origin_point(origin, extent)
        attribute = _TRANSFORMS.get(element.tag, "transform")
        transform = element.get(attribute)
        units = element.get("gradientUnits") or element.get("patternUnits")
        if point is None or not transform:
            continue
        if attribute != "transform" and units != "userSpaceOnUse":
            continue  # a paint server in bounding-box units: left as cairosvg reads it
        x, y = (f"{value:g}" for value in point)
        back = f"translate({-point[0]:g} {-point[1]:g})"
        element.set(attribute, f"translate({x} {y}) {transform} {back}")


def _origin_point(value: str, extent: tuple[float, float]) -> tuple[float, float] | None:
    """The origin in user units: the reference box (the view box's size) starts at the user
    space's origin, as CSS Transforms says for SVG elements."""
    parts = value.lower().split()
    if not 1 <= len(parts) <= 3:
        return None
    if len(parts) == 1:
        parts = ["center", parts[0]] if parts[0] in ("top", "bottom") else [parts[0], "center"]
    elif parts[0] in ("top", "bottom") or parts[1] in ("left", "right"):
        parts = [parts[1], parts[0]]
    coordinates = []
    for part, size in zip(parts[:2], extent, strict=True):
        if part in _ORIGIN_KEYWORDS:
            coordinates.append(size * _ORIGIN_KEYWORDS[part])
            continue
        match = _ORIGIN_PART.fullmatch(part)
        if not match:
            return None
        number = float(match.group(1))
        coordinates.append(size * number / 100 if match.group(2) == "%" else number)
    return coordinates[0], coordinates[1]
