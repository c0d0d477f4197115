"""Product spec format: parsing and validation of spec files (versions 1 and 2).

Version 1 names one of the two bundled templates and sets fixed fields (title, label, colours);
it maps onto those templates' layers. Version 2 names any template, bundled or uploaded, and
sets its layers at product level and per variant (docs/templates-and-specs.md, "Spec format");
what a layer setting may hold is each layer kind's (render/kinds/).

The JSON is read strictly and every problem is named at its JSON path (json_paths.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, Field, ValidationError, create_model, model_validator

from renderfarm_dagster.formats import FORMATS
from renderfarm_dagster.json_paths import (
    JsonProblem,
    UnreadableJsonError,
    document_problems,
    join,
    json_type,
    problems_from_pydantic,
    read_json,
)
from renderfarm_dagster.keys import LAYER_ID_PATTERN, MAIN_LAYOUT
from renderfarm_dagster.layers import LayerValue
from renderfarm_dagster.problems import FileProblems
from renderfarm_dagster.render.kinds import KINDS, kind_of_settings, kinds_set
from renderfarm_dagster.spec_fields import (
    DEFAULT_LOCALE,
    Colour,
    Id,
    LocaleTag,
    OutputSpec,
    Price,
    StrictModel,
    Text,
)

if TYPE_CHECKING:
    from renderfarm_dagster.render.template import Template

MAX_SPEC_BYTES = 1024 * 1024
SUPPORTED_SPEC_VERSIONS = (1, 2)

# A spec's problems are located by JSON path.
SpecProblem = JsonProblem


class SpecError(FileProblems):
    """A spec file that cannot be used, with every problem found in it."""

    problems: list[SpecProblem]


class Colours(StrictModel):
    primary: Colour
    accent: Colour


class Variant(StrictModel):
    variant_id: Id
    label: Text
    colors: Colours
    title: Text | None = None
    badge: Text | None = None
    price: Price | None = None


class _WithVariants:
    """What both spec versions share: their variants (each model's `variants` field), looked up
    by id."""

    def variant(self, variant_id: str):
        for variant in self.variants:
            if variant.variant_id == variant_id:
                return variant
        raise KeyError(variant_id)


class ProductSpecV1(_WithVariants, StrictModel):
    spec_version: Literal[1]
    product_id: Id
    template: Literal["product-card", "banner"]
    title: Text
    subtitle: Text | None = None
    price: Price | None = None
    badge: Text | None = None
    variants: Annotated[list[Variant], Field(min_length=1, max_length=500)]
    outputs: Annotated[list[OutputSpec], Field(min_length=1, max_length=8)]

    def layer_values(self, variant_id: str) -> dict[str, LayerValue]:
        """The bundled templates' layers as this version's fields set them."""
        variant = self.variant(variant_id)
        price = variant.price or self.price
        badge = variant.badge or self.badge

        def optional(text: str | None) -> LayerValue:
            return LayerValue(text=text) if text is not None else LayerValue(hidden=True)

        return {
            "title": LayerValue(text=variant.title or self.title),
            "subtitle": optional(self.subtitle),
            "badge": optional(badge),
            "label": LayerValue(text=variant.label),
            "price": optional(price.display() if price else None),
            "primary": LayerValue(color=variant.colors.primary),
            "accent": LayerValue(color=variant.colors.accent),
        }

    def photo_keys(self) -> set[str]:
        return set()

    def locale_of(self, variant_id: str) -> str:
        return DEFAULT_LOCALE


def _check_layer_id(value: str) -> str:
    if not LAYER_ID_PATTERN.fullmatch(value):
        raise ValueError(
            "not a layer id: 1 to 64 letters, digits, '-' and '_', not starting with a digit or '-'"
        )
    return value


# What a spec may set on a layer: every kind's settings (render/kinds/), each None when unset,
# and `hidden`.
_LayerSettingFields = create_model(
    "_LayerSettingFields",
    __base__=StrictModel,
    hidden=(bool | None, None),
    **{
        name: (annotation, None)
        for kind in KINDS.values()
        for name, annotation in kind.settings.items()
    },
)


class LayerSetting(_LayerSettingFields):
    """A spec's setting of one template layer: the settings of one kind (text or price; image
    with fit and focal; color), and whether it is hidden."""

    @model_validator(mode="after")
    def _one_kind(self) -> LayerSetting:
        named = kinds_set(self.settings)
        if len(named) > 1:
            raise ValueError(f"sets {' and '.join(named)}: a layer is one kind")
        return self

    @property
    def settings(self) -> dict[str, Any]:
        """The kind's settings this one sets (not `hidden`)."""
        return {name: value for name, value in self if name != "hidden" and value is not None}

    @property
    def kind(self) -> str | None:
        """The kind of layer this setting is for (None: it only shows or hides one)."""
        kind = kind_of_settings(self.settings)
        return kind.name if kind is not None else None

    def value(self, locale: str = DEFAULT_LOCALE) -> LayerValue:
        """The layer's value, in the market `locale` (a price is written as it writes them)."""
        kind = kind_of_settings(self.settings)
        fields = kind.value_fields(self.settings, locale) if kind is not None else {}
        return LayerValue(hidden=self.hidden, **fields)


Layers = Annotated[
    dict[Annotated[str, AfterValidator(_check_layer_id)], LayerSetting], Field(max_length=64)
]


class VariantV2(StrictModel):
    variant_id: Id
    locale: LocaleTag | None = None  # this variant's market, over the product's
    layers: Layers = Field(default_factory=dict)


class ProductSpecV2(_WithVariants, StrictModel):
    spec_version: Literal[2]
    product_id: Id
    template: Id
    locale: LocaleTag | None = None  # the market of every variant that names none
    layers: Layers = Field(default_factory=dict)
    variants: Annotated[list[VariantV2], Field(min_length=1, max_length=500)]
    outputs: Annotated[list[OutputSpec], Field(min_length=1, max_length=8)]

    def layer_values(self, variant_id: str) -> dict[str, LayerValue]:
        """Product-level layers, with the variant's settings over them field by field; prices
        in the variant's market format."""
        variant = self.variant(variant_id)
        locale = self.locale_of(variant_id)
        values = {name: setting.value(locale) for name, setting in self.layers.items()}
        for name, setting in variant.layers.items():
            values[name] = setting.value(locale).over(values.get(name, LayerValue()))
        return values

    def locale_of(self, variant_id: str) -> str:
        """The variant's market: its own locale, else the product's, else English."""
        return self.variant(variant_id).locale or self.locale or DEFAULT_LOCALE

    def photo_keys(self) -> set[str]:
        settings = [*self.layers.values()]
        settings += [s for variant in self.variants for s in variant.layers.values()]
        return {
            key
            for setting in settings
            for kind in KINDS.values()
            for key in kind.photo_keys(setting.value())
        }


ProductSpec = ProductSpecV1 | ProductSpecV2
_MODELS: dict[int, type[ProductSpecV1] | type[ProductSpecV2]] = {1: ProductSpecV1, 2: ProductSpecV2}


def template_problems(
    spec: ProductSpec, template: Template, layouts: Collection[str] = (MAIN_LAYOUT,)
) -> list[SpecProblem]:
    """Where a spec's layers do not fit its template (its main layout; `layouts`: the names of
    the set's layouts): unknown layers, wrong kinds, required layers left unset, and outputs
    naming a layout the set does not have. Each problem names the JSON path and the
    template's layer or layout."""
    where = f"template {template.name!r}"
    problems = [
        SpecProblem(
            f"outputs[{index}].layout",
            f"{where} has no layout {output.layout!r} (its layouts: {', '.join(layouts)})",
        )
        for index, output in enumerate(spec.outputs)
        if output.layout is not None and output.layout not in layouts
    ]
    if isinstance(spec, ProductSpecV1):
        return problems
    settings: list[tuple[str, Mapping[str, LayerSetting]]] = [("layers", spec.layers)]
    settings += [
        (f"variants[{index}].layers", variant.layers) for index, variant in enumerate(spec.variants)
    ]
    for path, layers in settings:
        for name, setting in layers.items():
            layer = template.layers.get(name)
            if layer is None:
                known = ", ".join(sorted(template.layers)) or "none"
                problems.append(
                    SpecProblem(
                        join(path, name), f"{where} has no layer {name!r} (its layers: {known})"
                    )
                )
            elif setting.kind is not None and setting.kind != layer.kind:
                problems.append(
                    SpecProblem(
                        join(path, name),
                        f"sets {setting.kind}, but layer {name!r} of {where} "
                        f"is a {layer.kind} layer",
                    )
                )
    for name, layer in template.layers.items():
        if not layer.required:
            continue
        product_sets = spec.layers.get(name) is not None and spec.layers[name].kind is not None
        for index, variant in enumerate(spec.variants):
            setting = variant.layers.get(name)
            if not product_sets and (setting is None or setting.kind is None):
                problems.append(
                    SpecProblem(
                        f"variants[{index}].layers",
                        f"layer {name!r} is required by {where}: set it here or in layers",
                    )
                )
    return problems


@dataclass(frozen=True)
class ParsedSpec:
    """A valid spec together with the identity of the bytes it came from."""

    spec: ProductSpec
    sha256: str


def parse_spec(data: bytes, source: str) -> ParsedSpec:
    """Parse and validate a spec file, raising SpecError listing every problem found."""
    if len(data) > MAX_SPEC_BYTES:
        raise SpecError(
            source,
            [SpecProblem("$", f"file is {len(data)} bytes, over the {MAX_SPEC_BYTES} byte limit")],
        )
    try:
        document = read_json(data)
    except UnreadableJsonError as error:
        raise SpecError(source, [error.problem]) from None
    problems = list(document_problems(document))
    # Values the JSON layer already refused are not reported again by the schema.
    refused_paths = {problem.path for problem in problems}
    if not isinstance(document, dict):
        problems.append(
            SpecProblem("$", f"a spec must be a JSON object, not {json_type(document)}")
        )
        raise SpecError(source, problems)
    # The version decides which schema applies: past a bad one there is nothing to check against.
    version = document.get("spec_version", SUPPORTED_SPEC_VERSIONS[-1])
    if "spec_version" in refused_paths:
        raise SpecError(source, problems)
    if not isinstance(version, int) or isinstance(version, bool):
        raise SpecError(source, [*problems, SpecProblem("spec_version", "must be an integer")])
    if version not in SUPPORTED_SPEC_VERSIONS:
        supported = ", ".join(map(str, SUPPORTED_SPEC_VERSIONS))
        problem = SpecProblem(
            "spec_version", f"unsupported version {version} (supported: {supported})"
        )
        raise SpecError(source, [*problems, problem])
    problems.extend(_uniqueness_problems(document, "variants", "variant_id"))
    problems.extend(_uniqueness_problems(document, "outputs", "name"))
    problems.extend(_png_quality_problems(document))
    try:
        spec = _MODELS[version].model_validate(document)
    except ValidationError as error:
        problems.extend(
            problem
            for problem in problems_from_pydantic(error)
            if problem.path not in refused_paths
        )
        spec = None
    if problems or spec is None:
        # The same problem can be found twice (by the raw pass and by pydantic): report it once.
        raise SpecError(source, list(dict.fromkeys(problems)))
    return ParsedSpec(spec=spec, sha256=hashlib.sha256(data).hexdigest())


def _uniqueness_problems(document: dict, list_field: str, id_field: str) -> Iterator[SpecProblem]:
    items = document.get(list_field)
    if not isinstance(items, list):
        return
    first_index: dict[str, int] = {}
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get(id_field), str):
            continue
        value = item[id_field]
        if value in first_index:
            yield SpecProblem(
                f"{list_field}[{index}].{id_field}",
                f"duplicate {id_field} '{value}' "
                f"(first used at {list_field}[{first_index[value]}])",
            )
        else:
            first_index[value] = index


def _png_quality_problems(document: dict) -> Iterator[SpecProblem]:
    outputs = document.get("outputs")
    if not isinstance(outputs, list):
        return
    for index, output in enumerate(outputs):
        if not isinstance(output, dict) or "quality" not in output:
            continue
        name = output.get("format")
        output_format = FORMATS.get(name) if isinstance(name, str) else None
        if output_format is not None and output_format.lossless:
            yield SpecProblem(
                f"outputs[{index}].quality",
                f"does not apply to {output_format.name} ({output_format.name} is lossless)",
            )
