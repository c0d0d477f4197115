"""Render one variant of a spec into its outputs, and identify what a render depends on."""

from __future__ import annotations

import functools
import hashlib
import json
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from fractions import Fraction
from importlib.metadata import version

import cairocffi
import pyvips

from renderfarm_dagster.render.raster import encode, rasterize, resize
from renderfarm_dagster.render.templates import TEMPLATES, VariantContent
from renderfarm_dagster.spec import OutputSpec, ProductSpec


@dataclass(frozen=True)
class RenderedOutput:
    variant_id: str
    output_name: str
    format: str
    width: int
    height: int
    data: bytes
    fingerprint: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@functools.cache
def renderer_versions() -> dict[str, str]:
    """Versions of everything that decides the output bytes, recorded in every manifest."""
    return {
        "renderfarm-dagster": version("renderfarm-dagster"),
        "cairosvg": version("cairosvg"),
        "cairo": cairocffi.cairo_version_string(),
        "pillow": version("pillow"),
        "libvips": ".".join(str(pyvips.version(part)) for part in range(3)),
    }


def render_fingerprint(spec: ProductSpec, variant_id: str, output: OutputSpec) -> str:
    """The sha256 of everything one output depends on: content, template, size, renderer.

    A checkpoint only lets a resumed run skip an output when this still matches, so editing
    the spec, the template or upgrading a library re-renders instead of reusing stale images.
    """
    template = TEMPLATES[spec.template]
    identity = {
        "template": [template.name, template.version],
        "content": VariantContent.from_spec(spec, variant_id).as_dict(),
        "output": output.model_dump(),
        "renderer": renderer_versions(),
    }
    canonical = json.dumps(identity, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def render_variant(
    spec: ProductSpec, variant_id: str, output_names: Collection[str] | None = None
) -> list[RenderedOutput]:
    """Render the named outputs (all by default) of one variant.

    The spec's outputs sharing an aspect ratio are drawn once, at the largest of their sizes;
    each smaller one is derived with Pillow from the next larger rendition, which is cheaper
    than going back to the full drawing. The chain is always the spec's whole set, whatever
    is asked for, so an output rendered alone (a resumed run) has the same bytes as in a full
    render.
    """
    template = TEMPLATES[spec.template]
    content = VariantContent.from_spec(spec, variant_id)
    wanted = [o for o in spec.outputs if output_names is None or o.name in output_names]
    wanted_names = {o.name for o in wanted}
    by_aspect: dict[Fraction, list[OutputSpec]] = defaultdict(list)
    for output in spec.outputs:
        by_aspect[Fraction(output.width, output.height)].append(output)
    rendered: dict[str, RenderedOutput] = {}
    for aspect, outputs in by_aspect.items():
        largest_first = sorted(outputs, key=lambda o: o.width * o.height, reverse=True)
        # Past the smallest wanted output, the rest of the chain is not needed.
        while largest_first and largest_first[-1].name not in wanted_names:
            largest_first.pop()
        if not largest_first:
            continue
        largest = largest_first[0]
        image = rasterize(template.svg(content, aspect), largest.width, largest.height)
        for output in largest_first:
            image = resize(image, output.width, output.height)
            if output.name not in wanted_names:
                continue
            rendered[output.name] = RenderedOutput(
                variant_id=variant_id,
                output_name=output.name,
                format=output.format,
                width=output.width,
                height=output.height,
                data=encode(image, output.format, output.effective_quality),
                fingerprint=render_fingerprint(spec, variant_id, output),
            )
    return [rendered[output.name] for output in wanted]
