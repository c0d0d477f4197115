"""What a product is rendered from, and what of it is already done: its spec with the template,
photos and brand fonts it names (their sha256, which every output's fingerprint holds), and the
split of its outputs into those still to render and those a checkpoint proves stored."""

from __future__ import annotations

from dataclasses import dataclass

from renderfarm_dagster import keys
from renderfarm_dagster.catalog.fonts import FontCatalogSource, UploadedFont, check_families
from renderfarm_dagster.catalog.templates import (
    TemplateNotFoundError,
    TemplateSource,
    load_template,
)
from renderfarm_dagster.keys import MAIN_LAYOUT
from renderfarm_dagster.render.errors import TemplateError
from renderfarm_dagster.render.fingerprint import render_fingerprint
from renderfarm_dagster.render.variant import renderer_versions
from renderfarm_dagster.spec import ProductSpec
from renderfarm_dagster.spec_fields import OutputSpec
from renderfarm_dagster.storage import CheckpointStore, ObjectStore, OutputCheckpoint


@dataclass(frozen=True)
class ProductInputs:
    """A product's spec with the objects it names: its template, its photos' sha256 and the
    brand fonts its template names."""

    spec: ProductSpec
    template: TemplateSource
    photo_sha256: dict[str, str]
    fonts: tuple[UploadedFont, ...] = ()

    def fingerprint(self, variant_id: str, output: OutputSpec) -> str:
        chosen = self.template.layouts.for_output(output)
        return render_fingerprint(
            chosen.template.sha256,
            self.spec.layer_values(variant_id),
            self.photo_sha256,
            output,
            renderer_versions(),
            self.spec.locale_of(variant_id),
            {font.key: font.face.sha256 for font in self.fonts},
        )

    def sha256s(self) -> dict[str, str]:
        """Every input object by key (a bundled template's layouts by file name), with its
        sha256."""
        source = self.template
        layouts = {
            (
                f"bundled:{source.name}" + ("" if layout == MAIN_LAYOUT else f".{layout}")
                if source.bundled
                else keys.template_key(source.name, layout)
            ): template.sha256
            for layout, template in source.layouts.layouts.items()
        }
        fonts = {font.key: font.face.sha256 for font in self.fonts}
        return {
            **layouts,
            **dict(sorted(self.photo_sha256.items())),
            **dict(sorted(fonts.items())),
        }


class MissingInputError(LookupError):
    """A template or photo a spec names is not there (or not valid); names the key."""

    def __init__(self, key: str, reason: str):
        self.key, self.reason = key, reason
        super().__init__(f"{key}: {reason}")


def load_inputs(
    spec: ProductSpec, objects: ObjectStore, fonts: FontCatalogSource | None = None
) -> ProductInputs:
    """The template and photo identities a spec's render depends on (photos are not read), and
    the brand fonts its template names (read, from `fonts`: fonts/ as a run first listed it).
    """
    fonts = fonts or FontCatalogSource(objects)
    try:
        template = load_template(objects, spec.template)
        for layout in template.layouts.layouts.values():
            check_families(layout, fonts, f"template {spec.template}")
    except TemplateNotFoundError as error:
        raise MissingInputError(f"template {spec.template}", str(error)) from None
    except TemplateError as error:
        raise MissingInputError(f"template {spec.template}", f"invalid: {error}") from None
    # The brand fonts any of its layouts names, each once.
    brand_fonts = tuple(
        {
            font.key: font
            for layout in template.layouts.layouts.values()
            for font in fonts.for_template(layout)
        }.values()
    )
    photos = {}
    for key in sorted(spec.photo_keys()):
        info = objects.head(key)
        if info is None:
            raise MissingInputError(key, "no photo stored at this key")
        photos[key] = info.sha256
    return ProductInputs(spec, template, photos, brand_fonts)


def plan(
    inputs: ProductInputs, objects: ObjectStore, checkpoints: CheckpointStore
) -> tuple[dict[str, tuple[str, ...]], list[OutputCheckpoint]]:
    """Split a product's outputs into those still to render and those already done.

    An output is done when its checkpoint was made from the same inputs (fingerprint: spec
    values, template and photo bytes, renderer) and the object it names is still there with the
    same sha256: a checkpoint alone is not trusted.
    """
    spec = inputs.spec
    recorded = checkpoints.read(spec.product_id)
    todo: dict[str, tuple[str, ...]] = {}
    done: list[OutputCheckpoint] = []
    for variant in spec.variants:
        missing = []
        for output in spec.outputs:
            checkpoint = recorded.get((variant.variant_id, output.name))
            if checkpoint and _still_valid(checkpoint, inputs, output, objects):
                done.append(checkpoint)
            else:
                missing.append(output.name)
        if missing:
            todo[variant.variant_id] = tuple(missing)
    return todo, done


def _still_valid(
    checkpoint: OutputCheckpoint, inputs: ProductInputs, output: OutputSpec, objects: ObjectStore
) -> bool:
    if checkpoint.fingerprint != inputs.fingerprint(checkpoint.variant_id, output):
        return False
    info = objects.head(checkpoint.key)
    return info is not None and info.sha256 == checkpoint.sha256 and info.size == checkpoint.size
