"""Previews for designers: a template or a spec rendered to PNG files on this machine, before
anything is uploaded (`renderfarm preview`)."""

from __future__ import annotations

import io
from collections.abc import Mapping

from PIL import Image, ImageDraw

from renderfarm_dagster.catalog.fonts import UploadedFont
from renderfarm_dagster.catalog.rendering import render_spec_variant
from renderfarm_dagster.catalog.templates import TemplateSource
from renderfarm_dagster.keys import MAIN_LAYOUT
from renderfarm_dagster.layers import LayerValue
from renderfarm_dagster.render.kinds import KINDS
from renderfarm_dagster.render.kinds.image import SAMPLE_PHOTO_KEY
from renderfarm_dagster.render.variant import VariantJob, render_variant
from renderfarm_dagster.spec import ProductSpec
from renderfarm_dagster.spec_fields import MIN_OUTPUT_PX, OutputSpec

# The longest side of a bare template's preview: its design size, within this.
MAX_TEMPLATE_PREVIEW_PX = 2000


def sample_photo(width: int = 1200, height: int = 900) -> bytes:
    """A stand-in photo that shows how a box crops or fits: a grid, a centre mark and a
    distinct colour in each corner."""
    image = Image.new("RGB", (width, height), "#d8dde6")
    draw = ImageDraw.Draw(image)
    step = max(width, height) // 12
    for x in range(0, width, step):
        draw.line([(x, 0), (x, height)], fill="#b5bfcd", width=2)
    for y in range(0, height, step):
        draw.line([(0, y), (width, y)], fill="#b5bfcd", width=2)
    corner = min(width, height) // 6
    for (x, y), colour in zip(
        [(0, 0), (width - corner, 0), (0, height - corner), (width - corner, height - corner)],
        ["#e63946", "#2a9d8f", "#f4a261", "#264653"],
        strict=True,
    ):
        draw.rectangle([x, y, x + corner, y + corner], fill=colour)
    radius = corner // 2
    draw.ellipse(
        [width / 2 - radius, height / 2 - radius, width / 2 + radius, height / 2 + radius],
        outline="#1d1d1f",
        width=6,
    )
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def template_preview(source: TemplateSource, fonts: tuple[UploadedFont, ...] = ()) -> bytes:
    """A bare template at its design size (within MAX_TEMPLATE_PREVIEW_PX), every layer shown
    with sample values: its own default texts and colours, hidden layers shown, and a sample
    photo in each image box. `fonts`: the brand fonts it names."""
    template = source.template
    scale = min(1.0, MAX_TEMPLATE_PREVIEW_PX / max(template.design_width, template.design_height))
    # A tiny design (an icon) is previewed at least at the smallest output size a spec may ask.
    width = max(MIN_OUTPUT_PX, round(template.design_width * scale))
    height = max(MIN_OUTPUT_PX, round(template.design_height * scale))
    layers: dict[str, LayerValue] = {
        name: KINDS[layer.kind].preview_value(layer) for name, layer in template.layers.items()
    }
    output = OutputSpec(name="preview", width=width, height=height, format="png")
    (rendered,) = render_variant(
        VariantJob(
            product_id="preview",
            variant_id="preview",
            template_name=source.name,
            template_layouts={MAIN_LAYOUT: source.data},
            layers=layers,
            photos={SAMPLE_PHOTO_KEY: sample_photo()},
            outputs=(output,),
            wanted=("preview",),
            fingerprints={"preview": ""},
            fonts=tuple(font.for_render() for font in fonts),
        )
    )
    return rendered.data


def spec_previews(
    spec: ProductSpec,
    template: TemplateSource,
    photos: Mapping[str, bytes],
    fonts: tuple[UploadedFont, ...] = (),
) -> dict[str, bytes]:
    """Every output of every variant as PNG, by relative path `<variant>/<output>.png`.
    Raises RenderInputError for a photo that cannot be used."""
    as_png = spec.model_copy(
        update={
            "outputs": [
                output.model_copy(update={"format": "png", "quality": None})
                for output in spec.outputs
            ]
        }
    )
    previews = {}
    for variant in as_png.variants:
        for rendered in render_spec_variant(
            as_png, variant.variant_id, template=template, photos=dict(photos), fonts=fonts
        ):
            previews[f"{variant.variant_id}/{rendered.output_name}.png"] = rendered.data
    return previews
