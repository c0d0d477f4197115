"""Gradients that SVG defines and cairosvg draws otherwise, written into the template as what
they draw: a radial gradient of no radius (zero or negative) is its last stop's colour, a
singular gradientTransform (it maps everything to a point) is ignored, as resvg and browsers
ignore it, a stop offset that is no number is 0, and what a gradient holds besides its stops is
ignored.
"""

from __future__ import annotations

import re
from xml.etree import ElementTree as ET

from renderfarm_dagster.render.svg_document import NUMBER

_MATRIX = re.compile(rf"\s*matrix\(\s*((?:{NUMBER}[\s,]*){{6}})\)\s*")
_OFFSET = re.compile(rf"\s*{NUMBER}%?\s*")


def normalise_gradients(root: ET.Element) -> None:
    """Rewrite `root`'s gradients (see above)."""
    for element in root.iter():
        offset = element.get("offset")
        if element.tag == "stop" and offset is not None and not _OFFSET.fullmatch(offset):
            element.set("offset", "0")
        if element.tag not in ("linearGradient", "radialGradient"):
            continue
        for child in list(element):
            if child.tag != "stop":
                element.remove(child)  # a gradient's content is its stops; the rest is ignored
        if _singular(element.get("gradientTransform")):
            del element.attrib["gradientTransform"]
        radius = element.get("r")
        stops = [child for child in element if child.tag == "stop"]
        if element.tag == "radialGradient" and radius is not None and stops:
            try:
                empty = float(radius.strip().removesuffix("%")) <= 0
            except ValueError:
                empty = False
            if empty:
                # No radius: the whole area in the last stop's colour.
                for stop in stops[:-1]:
                    element.remove(stop)
                element.tag = "linearGradient"
                for name in ("r", "cx", "cy", "fx", "fy", "fr"):
                    element.attrib.pop(name, None)


def _singular(transform: str | None) -> bool:
    match = _MATRIX.fullmatch(transform or "")
    if match is None:
        return False
    a, b, c, d = (float(n) for n in re.split(r"[\s,]+", match.group(1).strip())[:4])
    return a * d - b * c == 0
