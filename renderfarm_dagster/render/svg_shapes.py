"""Basic shapes' geometry as SVG 2 has it, written into the template where cairosvg reads it
otherwise: percentages of the view box (cairosvg measures them against the output's pixels),
an ellipse's or rounded rectangle's missing or negative radius taken from the other ("auto"),
values that are no length left out (their default), and elements inside a shape dropped (a
shape has no content; cairosvg would draw it).
"""

from __future__ import annotations

import math
import re
from xml.etree import ElementTree as ET

from renderfarm_dagster.render.static_text import font_size_px
from renderfarm_dagster.render.svg_document import MARKER_PROPERTIES, NUMBER, SHAPES, property_value

# Each length attribute and what its percentage is of: the view box's width, height, or its
# normalised diagonal.
_LENGTHS = {
    "rect": {"x": "w", "y": "h", "width": "w", "height": "h", "rx": "w", "ry": "h"},
    "circle": {"cx": "w", "cy": "h", "r": "d"},
    "ellipse": {"cx": "w", "cy": "h", "rx": "w", "ry": "h"},
    "line": {"x1": "w", "y1": "h", "x2": "w", "y2": "h"},
}
_LENGTH = re.compile(rf"\s*({NUMBER})\s*(px|%)?\s*", re.IGNORECASE)
_KEPT_CHILDREN = frozenset({"title", "desc", "metadata"})
_RELATIVE = re.compile(rf"\s*({NUMBER})\s*(em|ex)\s*", re.IGNORECASE)


def normalise_shapes(root: ET.Element, width: float, height: float) -> None:
    """Rewrite the shapes of `root` (see above); `width` and `height` are the view box's."""
    extents = {"w": width, "h": height, "d": math.sqrt((width**2 + height**2) / 2)}
    for element, font_size in _outside_nested_viewports(root):
        if element.tag not in SHAPES:
            continue
        for child in list(element):
            if child.tag not in _KEPT_CHILDREN:
                element.remove(child)
        for name, axis in _LENGTHS.get(element.tag, {}).items():
            value = element.get(name)
            if value is None:
                continue
            relative = _RELATIVE.fullmatch(value)
            if relative is not None:
                em = font_size if relative.group(2).lower() == "em" else font_size / 2
                element.set(name, f"{float(relative.group(1)) * em:g}")
                continue
            match = _LENGTH.fullmatch(value)
            if match is None:
                if not value.strip().endswith(("pt", "pc", "in", "cm", "mm")):
                    del element.attrib[name]  # no length: its default, as in browsers
                continue
            if match.group(2) == "%":
                number = float(match.group(1)) * extents[axis] / 100
                element.set(name, f"{number:g}")
        if element.tag == "rect" and any(
            float(m.group(1)) < 0
            for m in (_LENGTH.fullmatch(element.get(n, "0")) for n in ("width", "height"))
            if m
        ):
            element.set("width", "0")  # a negative size is an error: nothing is drawn
        if element.tag in ("rect", "ellipse"):
            _auto_radii(element)
        if element.tag in _AS_PATHS and any(
            property_value(element, m) is not None for m in MARKER_PROPERTIES
        ):
            _as_path(element)


_AS_PATHS = {"rect": ("x", "y", "width", "height", "rx", "ry"), "circle": ("cx", "cy", "r"),
             "ellipse": ("cx", "cy", "rx", "ry")}  # fmt: skip


def _as_path(element: ET.Element) -> None:
    """A rect, circle or ellipse with markers as the path SVG 2 says it equals, whose vertices
    the markers go on (cairosvg puts markers on paths only)."""
    names = _AS_PATHS[element.tag]
    values = {}
    for name in names:
        match = _LENGTH.fullmatch(element.get(name, "0"))
        if match is None or match.group(2) == "%":
            return
        values[name] = float(match.group(1))
    if element.tag == "rect":
        d = _rect_path(**values)
    else:
        rx = values.get("r", values.get("rx", 0.0))
        ry = values.get("r", values.get("ry", 0.0))
        cx, cy = values["cx"], values["cy"]
        arc = f"A {rx:g} {ry:g} 0 0 1"
        d = (
            f"M {cx + rx:g} {cy:g} {arc} {cx:g} {cy + ry:g} {arc} {cx - rx:g} {cy:g} "
            f"{arc} {cx:g} {cy - ry:g} {arc} {cx + rx:g} {cy:g} Z"
        )
    if d is None:
        return
    for name in names:
        element.attrib.pop(name, None)
    element.tag = "path"
    element.set("d", d)


def _rect_path(x, y, width, height, rx, ry) -> str | None:
    if width <= 0 or height <= 0:
        return None
    rx, ry = min(rx, width / 2), min(ry, height / 2)
    if not rx or not ry:
        return f"M {x:g} {y:g} H {x + width:g} V {y + height:g} H {x:g} Z"
    arc = f"A {rx:g} {ry:g} 0 0 1"
    right, bottom = x + width, y + height
    return (
        f"M {x + rx:g} {y:g} H {right - rx:g} {arc} {right:g} {y + ry:g} V {bottom - ry:g} "
        f"{arc} {right - rx:g} {bottom:g} H {x + rx:g} {arc} {x:g} {bottom - ry:g} "
        f"V {y + ry:g} {arc} {x + rx:g} {y:g} Z"
    )


def _outside_nested_viewports(root: ET.Element):
    """The elements whose viewport is the root's (a nested <svg> sets its own, left to
    cairosvg), each with the font size it inherits (px; CSS's 16 by default), for em and ex."""
    stack = [(child, _font_size(root, 16.0)) for child in root]
    while stack:
        element, inherited = stack.pop()
        own = _font_size(element, inherited)
        yield element, own
        if element.tag != "svg":
            stack.extend((child, own) for child in element)


def _font_size(element: ET.Element, inherited: float) -> float:
    return font_size_px(property_value(element, "font-size"), inherited)


def _auto_radii(element: ET.Element) -> None:
    """A radius missing, negative or "auto" is the other one (SVG 2's auto)."""
    radii = {}
    for name in ("rx", "ry"):
        match = _LENGTH.fullmatch(element.get(name) or "")
        number = float(match.group(1)) if match and match.group(2) != "%" else None
        radii[name] = number if number is not None and number >= 0 else None
    for name, other in (("rx", "ry"), ("ry", "rx")):
        if radii[name] is None and radii[other] is not None:
            element.set(name, f"{radii[other]:g}")
        elif radii[name] is None and name in element.attrib:
            del element.attrib[name]
