"""What validation accepts, the renderer draws: a parsed template laid out with its own defaults
by the layout every render uses, and drawn once, small. A failure names the element it happened
at, by its line in the file."""

from __future__ import annotations

import copy
import dataclasses
from fractions import Fraction

from renderfarm_dagster.render.errors import TemplateProblem
from renderfarm_dagster.render.layout import layout
from renderfarm_dagster.render.raster import drawing_failure
from renderfarm_dagster.render.svg_document import RF_NS, Lines, walk
from renderfarm_dagster.render.template import Template

# The trial's size (its longer side): large enough that patterns and strokes are drawn as at
# real sizes, small enough to cost a few milliseconds.
TRIAL_DRAWING_PX = 256
# Each element of the trial's copy carries its line in the file, which cairosvg keeps among
# the attributes of the element it failed at.
_LINE = f"{{{RF_NS}}}line"


def drawing_problems(template: Template, lines: Lines) -> list[TemplateProblem]:
    """The problem that stops `template` from being drawn, if any, at its element and line."""
    marked = copy.deepcopy(template.root)
    for (element, _), (original, _) in zip(walk(marked), walk(template.root), strict=True):
        element.set(_LINE, str(lines.get(original, 0)))
    aspect = Fraction(template.design_width) / Fraction(template.design_height)
    laid_out = layout(dataclasses.replace(template, root=marked), {}, aspect)
    scale = TRIAL_DRAWING_PX / max(template.design_width, template.design_height)
    width = max(1, round(template.design_width * scale))
    height = max(1, round(template.design_height * scale))
    failure = drawing_failure(
        laid_out.svg, width, height, template.embedded_images, laid_out.outlines
    )
    if failure is None:
        return []
    node, reason = failure
    line, tag = int(node.get(_LINE) or 0), getattr(node, "tag", "")
    return [TemplateProblem(line, tag, f"cannot be drawn ({reason}): fix or remove this element")]
