"""Template sets: one design per shape, and which of them draws each output.

A template is a set of layouts: its main file (`templates/<name>.svg`, layout "main") and any
number of others, one file each (`templates/<name>.<layout>.svg`: `product-card.story.svg`),
as a design tool exports one frame or artboard per file. Every layout has the same layers
(the same ids, each of the same kind), so one spec fills them all; each may place, size and
style them as its shape needs.

An output is drawn from the layout it names (`outputs[].layout`), else from the layout whose
aspect ratio is nearest its own. Within ASPECT_TOLERANCE of that layout's aspect the layout
fills the output: scaled to cover it and centred, at most half the tolerance cut from two
opposite edges (its preserveAspectRatio's alignment kept; "none" still stretches). Beyond the
tolerance it is drawn as its preserveAspectRatio says: by default whole, with backdrop margins.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass

from renderfarm_dagster.keys import MAIN_LAYOUT
from renderfarm_dagster.render.errors import TemplateError, TemplateProblem
from renderfarm_dagster.render.template import DesignFit, Template
from renderfarm_dagster.spec_fields import OutputSpec

# 5%: a 1080x1350 (4:5) output fills a 4:5 layout exactly; 1200x628 (1.911) fills a 1.91:1
# layout; a square output never fills a 4:5 one (25% apart).
ASPECT_TOLERANCE = 0.05


@dataclass(frozen=True)
class ChosenLayout:
    """The layout an output is drawn from, as drawn: `template` is the layout's, with the fit
    that fills the output when the aspects are within the tolerance."""

    name: str
    template: Template
    fills: bool


@dataclass(frozen=True)
class TemplateSet:
    """A template's layouts by name, the main one first; validated to share their layers."""

    name: str
    layouts: Mapping[str, Template]

    @property
    def main(self) -> Template:
        return self.layouts[MAIN_LAYOUT]

    def choose(self, width: int, height: int, named: str | None = None) -> ChosenLayout:
        """The layout an output of `width` x `height` is drawn from (`named`: the one the spec
        names for it, which must be in the set)."""
        aspect = width / height
        if named is not None:
            name = named
        else:
            # Nearest on a log scale (2:1 is as far from 1:1 as 1:2); ties go to the main
            # layout, then to the first name in order.
            name = min(
                self.layouts,
                key=lambda n: (
                    round(abs(math.log(aspect / self.layouts[n].aspect)), 9),
                    n != MAIN_LAYOUT,
                    n,
                ),
            )
        template = self.layouts[name]
        fills = abs(aspect / template.aspect - 1) <= ASPECT_TOLERANCE
        if fills and template.fit.align is not None and aspect != template.aspect:
            template = dataclasses.replace(template, fit=DesignFit(template.fit.align, True))
        return ChosenLayout(name, template, fills)

    def for_output(self, output: OutputSpec) -> ChosenLayout:
        """The layout `output` is drawn from (choose, for its size and the layout it names)."""
        return self.choose(output.width, output.height, output.layout)


def template_set(
    name: str, layouts: Mapping[str, Template], sources: Mapping[str, str]
) -> TemplateSet:
    """The set of `layouts` (by layout name, MAIN_LAYOUT among them); raises TemplateError,
    at the file of the layout at fault (`sources`: layout name -> file or key), for each layer
    that one layout lacks, adds or declares as another kind than the main layout."""
    main = layouts[MAIN_LAYOUT]
    for layout, template in sorted(layouts.items()):
        if layout == MAIN_LAYOUT:
            continue
        problems = layer_differences(main, template, layout)
        if problems:
            raise TemplateError(sources[layout], problems)
    ordered = {MAIN_LAYOUT: main, **{n: t for n, t in sorted(layouts.items()) if n != MAIN_LAYOUT}}
    return TemplateSet(name, ordered)


def layer_differences(main: Template, layout: Template, layout_name: str) -> list[TemplateProblem]:
    """Every difference between the layers of `layout` and the main layout's, named."""
    problems = []
    for layer_id, layer in main.layers.items():
        other = layout.layers.get(layer_id)
        if other is None:
            problems.append(
                TemplateProblem(
                    0,
                    "",
                    f'layout "{layout_name}" has no layer "{layer_id}" (a {layer.kind} layer in '
                    f"the main layout): every layout of a set has the same layers",
                )
            )
        elif other.kind != layer.kind:
            problems.append(
                TemplateProblem(
                    other.line,
                    "",
                    f'layout "{layout_name}": layer "{layer_id}" is a {other.kind} layer here and '
                    f"a {layer.kind} layer in the main layout",
                )
            )
    for layer_id, layer in layout.layers.items():
        if layer_id not in main.layers:
            problems.append(
                TemplateProblem(
                    layer.line,
                    "",
                    f'layout "{layout_name}": layer "{layer_id}" is not in the main layout: '
                    "every layout of a set has the same layers",
                )
            )
    return problems
