"""Render one variant into its outputs.

The catalog layer hands over everything a variant depends on (`VariantJob`): the template's
bytes, the layer values, the bytes of the photos they use. Nothing here reads storage.
"""

from __future__ import annotations

import functools
import hashlib
from collections import OrderedDict, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from importlib.metadata import version

import cairocffi
import pyvips
from PIL import Image

from renderfarm_dagster.formats import FORMATS
from renderfarm_dagster.layers import LayerValue
from renderfarm_dagster.output_record import OutputRecord
from renderfarm_dagster.render import pango
from renderfarm_dagster.render.errors import BlankRenditionError, RenderInputError, TemplateError
from renderfarm_dagster.render.fonts import FontFace, bundled_faces
from renderfarm_dagster.render.kinds.image import PHOTO_SCHEME, placed_images
from renderfarm_dagster.render.layout import layout
from renderfarm_dagster.render.layouts import TemplateSet, template_set
from renderfarm_dagster.render.photo import decode_photo, fit_photo, png_for_cairo
from renderfarm_dagster.render.raster import (
    DRAWING_ERRORS,
    EncodedOutputError,
    encoded_problems,
    is_blank,
    rasterize,
    resize,
)
from renderfarm_dagster.render.subject import find_subject
from renderfarm_dagster.render.template import Template, parse_template
from renderfarm_dagster.render.typeset import FontSet, font_set
from renderfarm_dagster.spec_fields import DEFAULT_LOCALE, OutputSpec

# Decoded photos kept per render process: variants of one product often share a photo, and a
# worker draws a product's variants one after another. Few, since each is a full RGBA image.
DECODED_PHOTOS_KEPT = 4


@dataclass(frozen=True)
class RenderedOutput(OutputRecord):
    """An output's record with its encoded bytes, before it is stored."""

    data: bytes
    # Text layer id -> characters no available font has (reported, drawn as boxes).
    uncovered: Mapping[str, str] = field(default_factory=dict)
    # Image layer id -> why its photo was not placed as asked (no subject found: contain).
    photo_warnings: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class VariantJob:
    """One variant to render, with every input it depends on."""

    product_id: str
    variant_id: str
    template_name: str
    template_layouts: Mapping[str, bytes]  # layout name -> its file's bytes, main first
    layers: Mapping[str, LayerValue]
    photos: Mapping[str, bytes]  # key -> bytes, the photos its layers show
    outputs: tuple[OutputSpec, ...]  # the spec's whole output set
    wanted: tuple[str, ...]  # the names of the outputs to render
    fingerprints: Mapping[str, str]  # output name -> its fingerprint (render/fingerprint.py)
    language: str = DEFAULT_LOCALE  # the variant's market: line breaking, CJK glyph forms
    fonts: tuple[tuple[FontFace, bytes], ...] = ()  # the brand fonts its template names


@dataclass(frozen=True)
class VariantFailure:
    """A variant whose inputs cannot be rendered (a bad photo): the product fails, not the run."""

    product_id: str
    variant_id: str
    key: str
    reason: str

    def __str__(self) -> str:
        return f"{self.key}: {self.reason}"


@functools.cache
def renderer_versions() -> dict[str, str]:
    """Versions of everything that decides the output bytes, recorded in every manifest."""
    return {
        "renderfarm-dagster": version("renderfarm-dagster"),
        "cairosvg": version("cairosvg"),
        "cairo": cairocffi.cairo_version_string(),
        "pillow": version("pillow"),
        "libvips": ".".join(str(pyvips.version(part)) for part in range(3)),
        # The text stack: Pango lays out with HarfBuzz, FriBiDi, FreeType and fontconfig.
        **pango.versions(),
        # One digest of every bundled font file: a changed font package re-renders.
        "bundled-fonts": hashlib.sha256(
            "".join(face.sha256 for face in bundled_faces()).encode()
        ).hexdigest(),
    }


def render_variant(job: VariantJob) -> list[RenderedOutput]:
    """Render the wanted outputs of one variant.

    Each output is drawn from the layout of the template's set that render/layouts.py chooses
    for it. The outputs sharing a layout and an aspect ratio are drawn once, at the largest of
    their sizes, with every photo resampled from its source for that size; each smaller one is
    derived with Pillow from the next larger rendition, which is cheaper than going back to
    the full drawing. The chain is always the spec's whole set, whatever is asked for, so an output
    rendered alone (a resumed run) has the same bytes as in a full render.
    Raises RenderInputError (PhotoError) for a photo or template that cannot be used, or
    (BlankRenditionError) for a rendition of one flat colour.
    """
    layouts = _template_set(
        job.template_name,
        tuple(job.template_layouts.items()),
        frozenset(face.family for face, _ in job.fonts),
    )
    fonts = font_set(job.fonts)
    # One drawing per layout and aspect ratio: its outputs, and the layout as it draws them.
    drawings: dict[tuple[str, Fraction], list[OutputSpec]] = defaultdict(list)
    drawn_from: dict[tuple[str, Fraction], Template] = {}
    for output in job.outputs:
        layout = layouts.for_output(output)
        drawing = (layout.name, Fraction(output.width, output.height))
        drawings[drawing].append(output)
        drawn_from[drawing] = layout.template
    rendered: dict[str, RenderedOutput] = {}
    for drawing, outputs in drawings.items():
        _, aspect = drawing
        largest_first = sorted(outputs, key=lambda o: o.width * o.height, reverse=True)
        # Past the smallest wanted output, the rest of the chain is not needed.
        while largest_first and largest_first[-1].name not in job.wanted:
            largest_first.pop()
        if not largest_first:
            continue
        largest = largest_first[0]
        image, uncovered, photo_warnings = _draw(
            drawn_from[drawing], job, fonts, aspect, largest.width, largest.height
        )
        for output in largest_first:
            image = resize(image, output.width, output.height)
            if output.name not in job.wanted:
                continue
            # Both checked here, so that the asset checks need only a stored object's sha256
            # to know it holds a good image: a rendition of more than one colour, encoded in
            # the format and size asked for.
            if is_blank(image):
                raise BlankRenditionError(job.variant_id, output.name, job.template_name)
            data = FORMATS[output.format].encode(image, output.effective_quality)
            problems = encoded_problems(
                data, output.format, output.width, output.height, pixels=False
            )
            if problems:
                raise EncodedOutputError(
                    f"{job.product_id}/{job.variant_id}/{output.name}: {'; '.join(problems)}"
                )
            rendered[output.name] = RenderedOutput(
                variant_id=job.variant_id,
                output_name=output.name,
                format=output.format,
                width=output.width,
                height=output.height,
                data=data,
                fingerprint=job.fingerprints[output.name],
                uncovered=uncovered,
                photo_warnings=photo_warnings,
            )
    return [rendered[output.name] for output in job.outputs if output.name in job.wanted]


def _draw(
    template: Template, job: VariantJob, fonts: FontSet, aspect: Fraction, width: int, height: int
) -> tuple[Image.Image, dict[str, str], dict[str, str]]:
    images = dict(template.embedded_images)
    photo_warnings = {}
    for placed in placed_images(template, job.layers, width, height):
        data = job.photos[placed.key]
        photo = _decoded(data, placed.key, (placed.width, placed.height))
        subject = find_subject(data, placed.key) if placed.needs_subject else None
        if placed.fit == "subject" and subject is not None and subject.box is None:
            photo_warnings[placed.layer_id] = (
                f"{placed.key}: no subject found ({subject.note}): placed whole (contain)"
            )
        fitted = fit_photo(
            photo,
            placed.width,
            placed.height,
            placed.fit,
            placed.focal,
            subject,
            placed.padding,
            placed.anchor,
        )
        images[f"{PHOTO_SCHEME}{placed.layer_id}"] = png_for_cairo(fitted)
    laid_out = layout(template, job.layers, aspect, fonts, job.language)
    try:
        image = rasterize(laid_out.svg, width, height, images, laid_out.outlines)
    except DRAWING_ERRORS as error:
        # Validation draws every template once; one that still fails at this size fails the
        # products using it, not their run.
        reason = f"cannot be drawn at {width}x{height}: {type(error).__name__}: {error}"
        raise RenderInputError(f"template {job.template_name}", reason) from None
    return image, laid_out.uncovered, photo_warnings


@functools.lru_cache(maxsize=16)
def _template_set(
    name: str, layouts: tuple[tuple[str, bytes], ...], brand_families: frozenset[str]
) -> TemplateSet:
    # Validated when it was uploaded; parsed once per render process.
    sources = {layout: f"template {name} layout {layout}" for layout, _ in layouts}
    try:
        parsed = {
            layout: parse_template(data, sources[layout], name, brand_families)
            for layout, data in layouts
        }
        return template_set(name, parsed, sources)
    except TemplateError as error:
        raise RenderInputError(f"template {name}", str(error)) from None


_decoded_photos: OrderedDict[tuple[str, tuple[int, int]], Image.Image] = OrderedDict()


def _decoded(data: bytes, key: str, at_least: tuple[int, int]) -> Image.Image:
    """The decoded photo, from this process's small cache when the same photo comes again."""
    cache_key = (hashlib.sha256(data).hexdigest(), at_least)
    if cache_key in _decoded_photos:
        _decoded_photos.move_to_end(cache_key)
        return _decoded_photos[cache_key]
    photo = decode_photo(data, key, at_least)
    _decoded_photos[cache_key] = photo
    while len(_decoded_photos) > DECODED_PHOTOS_KEPT:
        _decoded_photos.popitem(last=False)
    return photo
