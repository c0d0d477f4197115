"""Previews for designers: a template or a spec rendered to PNG files on this machine, before
anything is uploaded (`renderfarm preview`)."""

from __future__ import annotations

import hashlib
import io
from collections import OrderedDict
from collections.abc import Iterator, Mapping

from PIL import Image, ImageDraw

from renderfarm_dagster import keys
from renderfarm_dagster.catalog.fonts import UploadedFont
from renderfarm_dagster.catalog.product_inputs import ProductInputs
from renderfarm_dagster.catalog.rendering import render_spec_variant
from renderfarm_dagster.catalog.templates import TemplateSource
from renderfarm_dagster.keys import MAIN_LAYOUT
from renderfarm_dagster.layers import LayerValue
from renderfarm_dagster.render.contact_sheet import contact_sheet
from renderfarm_dagster.render.kinds import KINDS
from renderfarm_dagster.render.kinds.image import SAMPLE_PHOTO_KEY
from renderfarm_dagster.render.template import Template
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


def template_previews(
    source: TemplateSource,
    fonts: tuple[UploadedFont, ...] = (),
    drawn: PreviewCache | None = None,
) -> dict[str, bytes]:
    """Every layout of a bare template as PNG, by file name (`card.png`, `card.story.png`): each
    at its design size (within MAX_TEMPLATE_PREVIEW_PX), every layer shown with sample values:
    its own default texts and colours, hidden layers shown, and a sample photo in each image
    box. `fonts`: the brand fonts it names; `drawn`: previews drawn before, by what they were
    drawn from (`renderfarm preview --watch` draws again only the layouts that changed)."""
    drawn = drawn if drawn is not None else PreviewCache()
    sources = source.layout_data()
    previews = {}
    for layout, template in source.layouts.layouts.items():
        identity = hashlib.sha256(
            "\n".join([template.sha256, *(font.face.sha256 for font in fonts)]).encode()
        ).hexdigest()
        if identity not in drawn:
            drawn.put(identity, _bare_layout(source.name, sources[layout], template, fonts))
        previews[keys.template_file_name(source.name, layout, "png")] = drawn.get(identity)
    return previews


class PreviewCache:
    """Previews drawn before, by the digest of what they were drawn from (an output's
    fingerprint, a layout's sha256 with its fonts'); the most recent MAX_ENTRIES kept."""

    MAX_ENTRIES = 1024

    def __init__(self) -> None:
        self._entries: OrderedDict[str, bytes] = OrderedDict()

    def __contains__(self, identity: str) -> bool:
        return identity in self._entries

    def get(self, identity: str) -> bytes:
        self._entries.move_to_end(identity)
        return self._entries[identity]

    def put(self, identity: str, data: bytes) -> None:
        self._entries[identity] = data
        while len(self._entries) > self.MAX_ENTRIES:
            self._entries.popitem(last=False)


def _bare_layout(
    name: str, data: bytes, template: Template, fonts: tuple[UploadedFont, ...]
) -> bytes:
    scale = min(1.0, MAX_TEMPLATE_PREVIEW_PX / max(template.design_width, template.design_height))
    # A tiny design (an icon) is previewed at least at the smallest output size a spec may ask.
    width = max(MIN_OUTPUT_PX, round(template.design_width * scale))
    height = max(MIN_OUTPUT_PX, round(template.design_height * scale))
    layers: dict[str, LayerValue] = {
        layer_id: KINDS[layer.kind].preview_value(layer)
        for layer_id, layer in template.layers.items()
    }
    output = OutputSpec(name="preview", width=width, height=height, format="png")
    (rendered,) = render_variant(
        VariantJob(
            product_id="preview",
            variant_id="preview",
            template_name=name,
            template_layouts={MAIN_LAYOUT: data},
            layers=layers,
            photos={SAMPLE_PHOTO_KEY: sample_photo()},
            outputs=(output,),
            wanted=("preview",),
            fingerprints={"preview": ""},
            fonts=tuple(font.for_render() for font in fonts),
        )
    )
    return rendered.data


# The contact sheet a spec's previews end with: every variant in every shape, by layout.
CONTACT_SHEET = "contact-sheet.jpg"


def spec_previews(
    spec: ProductSpec,
    template: TemplateSource,
    photos: Mapping[str, bytes],
    fonts: tuple[UploadedFont, ...] = (),
    drawn: PreviewCache | None = None,
) -> Iterator[dict[str, bytes]]:
    """Every output of every variant as PNG, by relative path `<variant>/<output>.png`, then
    CONTACT_SHEET: the outputs grouped by the layout each is drawn from; yielded as they grow,
    after each variant (the last holds them all). `drawn`: outputs drawn before, by
    fingerprint (only those whose inputs changed are drawn again).
    Raises RenderInputError for a photo that cannot be used."""
    drawn = drawn if drawn is not None else PreviewCache()
    as_png = spec.model_copy(
        update={
            "outputs": [
                output.model_copy(update={"format": "png", "quality": None})
                for output in spec.outputs
            ]
        }
    )
    previews = {}
    by_layout: dict[str, list[bytes]] = {}
    layout_of = {output.name: template.layouts.for_output(output).name for output in spec.outputs}
    photo_sha256 = {key: hashlib.sha256(data).hexdigest() for key, data in photos.items()}
    inputs = ProductInputs(as_png, template, photo_sha256, fonts)
    for variant in as_png.variants:
        identities = {
            output.name: inputs.fingerprint(variant.variant_id, output) for output in as_png.outputs
        }
        missing = [name for name, identity in identities.items() if identity not in drawn]
        if missing:
            for rendered in render_spec_variant(
                as_png,
                variant.variant_id,
                wanted=missing,
                template=template,
                photos=dict(photos),
                fonts=fonts,
            ):
                drawn.put(identities[rendered.output_name], rendered.data)
        for output in as_png.outputs:
            data = drawn.get(identities[output.name])
            previews[f"{variant.variant_id}/{output.name}.png"] = data
            by_layout.setdefault(layout_of[output.name], []).append(data)
        yield dict(previews)
    previews[CONTACT_SHEET] = contact_sheet(list(by_layout.items()))
    yield previews
