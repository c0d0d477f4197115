"""The reference pipeline: what one writes first with cairosvg and Pillow for the same outputs.

The SVG is the project's (templates are not what is measured). Each aspect ratio is drawn once
with `cairosvg.svg2png` at its largest size, decoded with Pillow, and every output is resized
from that drawing with Lanczos and saved with Pillow's defaults (PNG zlib level 6, WebP method
4) at the spec's quality.
"""

from __future__ import annotations

import io
from fractions import Fraction

import cairosvg
from PIL import Image

from renderfarm_dagster.formats import FORMATS
from renderfarm_dagster.render.templates import TEMPLATES, VariantContent
from renderfarm_dagster.spec import ProductSpec


def render_variant(spec: ProductSpec, variant_id: str) -> dict[str, bytes]:
    """Every output of one variant, by output name."""
    template = TEMPLATES[spec.template]
    content = VariantContent.from_spec(spec, variant_id)
    results = {}
    for aspect in {Fraction(o.width, o.height) for o in spec.outputs}:
        outputs = [o for o in spec.outputs if Fraction(o.width, o.height) == aspect]
        largest = max(outputs, key=lambda o: o.width * o.height)
        png = cairosvg.svg2png(
            bytestring=template.svg(content, aspect),
            output_width=largest.width,
            output_height=largest.height,
        )
        drawing = Image.open(io.BytesIO(png)).convert("RGBA")
        for output in outputs:
            image = drawing
            if image.size != (output.width, output.height):
                image = image.resize((output.width, output.height), Image.Resampling.LANCZOS)
            if output.format == "jpeg":
                image = image.convert("RGB")
            options = {} if output.format == "png" else {"quality": output.effective_quality}
            buffer = io.BytesIO()
            image.save(buffer, FORMATS[output.format].pillow_format, **options)
            results[output.name] = buffer.getvalue()
    return results
