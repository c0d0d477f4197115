"""The reference pipeline: what one writes first with cairosvg and Pillow for the same outputs.

The SVG is the project's (templates are not what is measured). Each aspect ratio is drawn once
with `cairosvg.svg2png` at its largest size, decoded with Pillow; each photo is decoded whole,
turned upright with `ImageOps.exif_transpose`, fitted to its layer's box (`ImageOps.fit` for
cover, around the focal point or the centre; `ImageOps.contain` for contain and subject: it
finds no subject) and pasted in; every output is resized from that drawing with Lanczos and
saved with Pillow's defaults (PNG zlib level 6, WebP method 4, AVIF speed 6) at the spec's
quality.
"""

from __future__ import annotations

import io
from fractions import Fraction

import cairosvg
from PIL import Image, ImageOps

from renderfarm_dagster.catalog.templates import TemplateSource, bundled_template
from renderfarm_dagster.formats import FORMATS
from renderfarm_dagster.layers import LayerValue
from renderfarm_dagster.render.kinds.image import placed_images
from renderfarm_dagster.render.layout import layout
from renderfarm_dagster.spec import ProductSpec


def render_variant(
    spec: ProductSpec,
    variant_id: str,
    template: TemplateSource | None = None,
    photos: dict[str, bytes] | None = None,
) -> dict[str, bytes]:
    """Every output of one variant, by output name."""
    template = (template or bundled_template(spec.template)).template
    values = spec.layer_values(variant_id)
    # The photos are pasted over the drawing, so their layers are left out of the SVG.
    without_photos = {
        name: LayerValue(hidden=True) if value.get("image") else value
        for name, value in values.items()
    }
    results = {}
    for aspect in {Fraction(o.width, o.height) for o in spec.outputs}:
        outputs = [o for o in spec.outputs if Fraction(o.width, o.height) == aspect]
        largest = max(outputs, key=lambda o: o.width * o.height)
        png = cairosvg.svg2png(
            bytestring=layout(template, without_photos, aspect).svg,
            output_width=largest.width,
            output_height=largest.height,
        )
        drawing = Image.open(io.BytesIO(png)).convert("RGBA")
        x, y, view_width, _ = template.view_box(aspect)
        scale = largest.width / view_width
        for placed in placed_images(template, values, largest.width, largest.height):
            photo = ImageOps.exif_transpose(Image.open(io.BytesIO((photos or {})[placed.key])))
            photo = photo.convert("RGBA")
            size = (placed.width, placed.height)
            if placed.fit == "cover":
                fitted = ImageOps.fit(
                    photo, size, Image.Resampling.LANCZOS, centering=placed.focal or (0.5, 0.5)
                )
            else:
                fitted = ImageOps.contain(photo, size, Image.Resampling.LANCZOS)
            box = template.layers[placed.layer_id].box
            left = round((box.x - x) * scale) + (size[0] - fitted.width) // 2
            top = round((box.y - y) * scale) + (size[1] - fitted.height) // 2
            drawing.alpha_composite(fitted, (left, top))
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
