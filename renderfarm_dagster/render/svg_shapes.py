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

from renderfarm_dagster.render.svg_document import NUMBER

_SHAPES = frozenset({"rect", "circle", "ellipse", "line", "polyline", "polygon", "path"})
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


def normalise_shapes(root: ET.Element, width: float, height: float) -> None:
    """Rewrite the shapes of `root` (see above); `width` and `height` are the view box's."""
    extents = {"w": width, "h": height, "d": math.sqrt((width**2 + height**2) / 2)}
    for element in _outside_nested_viewports(root):
        if element.tag not in _SHAPES:
            continue
        for child in list(element):
            if child.tag not in _KEPT_CHILDREN:
                element.remove(child)
        for name, axis in _LENGTHS.get(element.tag, {}).items():
            value = element.get(name)
            if value is None:
                continue
            match = _LENGTH.fullmatch(value)
            if match is None:
                if not value.strip().endswith(("em", "ex", "pt", "pc", "in", "cm", "mm")):
                    del element.attrib[name]  # no length: its default, as in browsers
                continue
            if match.group(2) == "%":
                number = float(match.group(1)) * extents[axis] / 100
                element.set(name, f"{number:g}")
        if element.tag in ("rect", "ellipse"):
            _auto_radii(element)


def _outside_nested_viewports(root: ET.Element):
    """The elements whose viewport is the root's (a nested <svg> sets its own, left to cairosvg)."""
    stack = list(root)
    while stack:
        element = stack.pop()
        yield element
        if element.tag != "svg":
            stack.extend(element)


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
