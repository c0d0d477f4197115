"""Product spec format: parsing and validation of spec files (versions 1 and 2).

Version 1 names one of the two bundled templates and sets fixed fields (title, label, colours);
it maps onto those templates' layers. Version 2 names any template, bundled or uploaded, and
sets its layers at product level and per variant (README, "Spec format").
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from renderfarm_dagster.formats import FORMATS
from renderfarm_dagster.keys import ID_PATTERN, validate_asset_key
from renderfarm_dagster.layers import LayerValue
from renderfarm_dagster.market import format_price, market
from renderfarm_dagster.problems import FileProblems
from renderfarm_dagster.render.template import Template

MAX_SPEC_BYTES = 1024 * 1024
SUPPORTED_SPEC_VERSIONS = (1, 2)
# Validators apply these with fullmatch: `$` with match() also matches before a final "\n".
COLOUR_PATTERN = re.compile(r"#[0-9a-fA-F]{6}")
AMOUNT_PATTERN = re.compile(r"(0|[1-9][0-9]{0,11})(\.[0-9]{1,4})?")
CURRENCY_PATTERN = re.compile(r"[A-Z]{3}")
LAYER_ID_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,63}")
_UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class SpecProblem:
    """One validation problem, located by its JSON path (`$` is the whole document)."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"

    def report(self) -> dict[str, Any]:
        return {"path": self.path, "message": self.message}


class SpecError(FileProblems):
    """A spec file that cannot be used, with every problem found in it."""

    problems: list[SpecProblem]


def _check_id(value: str) -> str:
    if not ID_PATTERN.fullmatch(value):
        raise ValueError(
            "not a valid id: 1 to 64 characters of a-z, 0-9, '-' and '_', "
            "starting with a letter or digit"
        )
    return value


def _check_colour(value: str) -> str:
    if not COLOUR_PATTERN.fullmatch(value):
        raise ValueError("not a #rrggbb colour")
    return value.lower()


def _check_text(value: str) -> str:
    # Control characters, lone surrogates and the two XML non-characters cannot appear in an
    # SVG document even when escaped (XML 1.0 section 2.2), so they are refused here, with the
    # position, rather than failing deep inside the renderer.
    for index, char in enumerate(value):
        category = unicodedata.category(char)
        if category in ("Cc", "Cs") or char in ("\ufffe", "\uffff"):
            raise ValueError(f"contains a control character U+{ord(char):04X} at index {index}")
    if not value.strip():
        raise ValueError("must not be blank")
    return value


Id = Annotated[str, AfterValidator(_check_id)]
Colour = Annotated[str, AfterValidator(_check_colour)]
Text = Annotated[str, Field(max_length=200), AfterValidator(_check_text)]


def _check_locale(value: str) -> str:
    market(value)  # raises UnknownMarketError, a ValueError naming the tag
    return value


# A market, as a BCP 47 locale tag CLDR knows (`de-DE`): how its prices are written.
LocaleTag = Annotated[str, Field(max_length=35), AfterValidator(_check_locale)]
# Prices of a spec that names no locale are written as in English.
DEFAULT_LOCALE = "en"


def _check_amount(value: str) -> str:
    if not AMOUNT_PATTERN.fullmatch(value):
        raise ValueError('not a decimal amount such as "89.00"')
    return value


def _check_format(value: str) -> str:
    if value not in FORMATS:
        raise ValueError(
            f"must be one of {', '.join(repr(name) for name in FORMATS)}, not {value!r}"
        )
    return value


def _check_currency(value: str) -> str:
    if not CURRENCY_PATTERN.fullmatch(value):
        raise ValueError("not an ISO 4217 currency code such as EUR")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Price(_Strict):
    amount: Annotated[str, AfterValidator(_check_amount)]
    currency: Annotated[str, AfterValidator(_check_currency)]

    def display(self) -> str:
        """Version 1's own format (kept: version 1 specs render as they always have)."""
        symbol = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥"}.get(self.currency)
        return f"{symbol}{self.amount}" if symbol else f"{self.amount} {self.currency}"

    def format(self, locale: str) -> str:
        """As the market `locale` writes it, from CLDR's data (renderfarm_dagster/market.py)."""
        return format_price(self.amount, self.currency, locale)


class Colours(_Strict):
    primary: Colour
    accent: Colour


class Variant(_Strict):
    variant_id: Id
    label: Text
    colors: Colours
    title: Text | None = None
    badge: Text | None = None
    price: Price | None = None


class OutputSpec(_Strict):
    name: Id
    width: Annotated[int, Field(ge=16, le=4096)]
    height: Annotated[int, Field(ge=16, le=4096)]
    format: Annotated[str, AfterValidator(_check_format)]
    quality: Annotated[int, Field(ge=1, le=100)] | None = None

    @property
    def extension(self) -> str:
        return FORMATS[self.format].extension

    @property
    def effective_quality(self) -> int | None:
        return self.quality if self.quality is not None else FORMATS[self.format].default_quality


class _WithVariants:
    """What both spec versions share: their variants (each model's `variants` field), looked up
    by id."""

    def variant(self, variant_id: str):
        for variant in self.variants:
            if variant.variant_id == variant_id:
                return variant
        raise KeyError(variant_id)


class ProductSpecV1(_WithVariants, _Strict):
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


def _check_asset_key(value: str) -> str:
    try:
        validate_asset_key(value)
    except ValueError as error:
        raise ValueError(str(error).removeprefix("invalid key ")) from None
    return value


class LayerSetting(_Strict):
    """A spec's setting of one template layer: one of text, image (with fit, focal) or color."""

    text: Text | None = None
    # A text layer showing a price, written in the variant's market format.
    price: Price | None = None
    image: Annotated[str, AfterValidator(_check_asset_key)] | None = None
    fit: Literal["cover", "contain"] | None = None
    focal: (
        Annotated[
            list[Annotated[float, Field(ge=0, le=1, strict=False)]],
            Field(min_length=2, max_length=2),
        ]
        | None
    ) = None
    color: Colour | None = None
    hidden: bool | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> LayerSetting:
        kinds = [
            kind
            for kind, present in (
                ("text", self.text is not None),
                ("price", self.price is not None),
                ("image", self.image is not None or self.fit or self.focal),
                ("color", self.color is not None),
            )
            if present
        ]
        if len(kinds) > 1:
            raise ValueError(f"sets {' and '.join(kinds)}: a layer is one kind")
        return self

    def value(self, locale: str = DEFAULT_LOCALE) -> LayerValue:
        """The layer's value; a price is written as the market `locale` writes it."""
        return LayerValue(
            text=self.price.format(locale) if self.price is not None else self.text,
            image=self.image,
            fit=self.fit,
            focal=(self.focal[0], self.focal[1]) if self.focal else None,
            color=self.color,
            hidden=self.hidden,
        )


Layers = Annotated[
    dict[Annotated[str, AfterValidator(_check_layer_id)], LayerSetting], Field(max_length=64)
]


class VariantV2(_Strict):
    variant_id: Id
    locale: LocaleTag | None = None  # this variant's market, over the product's
    layers: Layers = {}


class ProductSpecV2(_WithVariants, _Strict):
    spec_version: Literal[2]
    product_id: Id
    template: Id
    locale: LocaleTag | None = None  # the market of every variant that names none
    layers: Layers = {}
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
        return {setting.image for setting in settings if setting.image is not None}


ProductSpec = ProductSpecV1 | ProductSpecV2
_MODELS: dict[int, type[ProductSpecV1] | type[ProductSpecV2]] = {1: ProductSpecV1, 2: ProductSpecV2}


def template_problems(spec: ProductSpec, template: Template) -> list[SpecProblem]:
    """Where a spec's layers do not fit its template: unknown layers, wrong kinds, and required
    layers left unset. Each problem names the JSON path and the template's layer."""
    if isinstance(spec, ProductSpecV1):
        return []
    problems = []
    where = f"template {template.name!r}"
    settings = [("layers", spec.layers)] + [
        (f"variants[{index}].layers", variant.layers) for index, variant in enumerate(spec.variants)
    ]
    for path, layers in settings:
        for name, setting in layers.items():
            layer = template.layers.get(name)
            kind = setting.value().kind
            if layer is None:
                known = ", ".join(sorted(template.layers)) or "none"
                problems.append(
                    SpecProblem(
                        _join(path, name), f"{where} has no layer {name!r} (its layers: {known})"
                    )
                )
            elif kind is not None and kind != layer.kind:
                problems.append(
                    SpecProblem(
                        _join(path, name),
                        f"sets {kind}, but layer {name!r} of {where} is a {layer.kind} layer",
                    )
                )
    for name, layer in template.layers.items():
        if not layer.required:
            continue
        product_sets = (
            spec.layers.get(name) is not None and spec.layers[name].value().kind is not None
        )
        for index, variant in enumerate(spec.variants):
            setting = variant.layers.get(name)
            if not product_sets and (setting is None or setting.value().kind is None):
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
    document = _load_json(data, source)
    problems = list(_document_problems(document, "$"))
    # Values the JSON layer already refused are not reported again by the schema.
    refused_paths = {problem.path for problem in problems}
    if not isinstance(document, dict):
        problems.append(
            SpecProblem("$", f"a spec must be a JSON object, not {_json_type(document)}")
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
            for problem in _problems_from_pydantic(error)
            if problem.path not in refused_paths
        )
        spec = None
    if problems or spec is None:
        # The same problem can be found twice (by the raw pass and by pydantic): report it once.
        raise SpecError(source, list(dict.fromkeys(problems)))
    return ParsedSpec(spec=spec, sha256=hashlib.sha256(data).hexdigest())


class _JsonObject(dict):
    """A decoded JSON object that remembers keys it saw more than once."""

    duplicate_keys: tuple[str, ...] = ()


def _object_pairs(pairs: list[tuple[str, Any]]) -> _JsonObject:
    obj = _JsonObject()
    duplicates = []
    for key, value in pairs:
        if key in obj:
            duplicates.append(key)
        obj[key] = value
    obj.duplicate_keys = tuple(duplicates)
    return obj


@dataclass(frozen=True)
class _RefusedNumber:
    """A number JSON's grammar allows or Python would take, but a spec cannot hold.

    It stands in the decoded document where the number was, so that the problem is reported at
    the value's JSON path (in a spec of 500 variants, "$" alone finds nothing).
    """

    text: str
    reason: str


def _refuse_constant(name: str) -> _RefusedNumber:
    return _RefusedNumber(name, "is not a valid JSON number")


def _finite_float(text: str) -> float | _RefusedNumber:
    value = float(text)
    if not math.isfinite(value):
        return _RefusedNumber(text[:40], "is out of range")
    return value


def _bounded_int(text: str) -> int | _RefusedNumber:
    try:
        return int(text)
    except ValueError:  # over Python's int conversion limit (4300 digits)
        return _RefusedNumber(f"{text[:20]}...", f"has {len(text)} digits: out of range")


def _load_json(data: bytes, source: str) -> Any:
    # RFC 8259 section 8.1 lets a parser ignore a UTF-8 byte order mark; editors on Windows
    # add one, so it is accepted rather than reported.
    if data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        where = f"byte {error.start}, line {line} column {column}"
        raise SpecError(source, [SpecProblem("$", f"not valid UTF-8 ({where})")]) from None
    try:
        return json.loads(
            text,
            object_pairs_hook=_object_pairs,
            parse_constant=_refuse_constant,
            parse_float=_finite_float,
            parse_int=_bounded_int,
        )
    except json.JSONDecodeError as error:
        # Some of the json module's messages end in "at" (e.g. "Invalid control character at").
        message = error.msg.removesuffix(" at")
        problem = f"not valid JSON: {message} at line {error.lineno} column {error.colno}"
        raise SpecError(source, [SpecProblem("$", problem)]) from None
    except RecursionError:
        raise SpecError(source, [SpecProblem("$", "JSON is nested too deeply")]) from None


def _document_problems(value: Any, path: str) -> Iterator[SpecProblem]:
    """Problems of the decoded JSON itself: keys given twice, numbers a spec cannot hold."""
    if isinstance(value, _RefusedNumber):
        yield SpecProblem(path, f"{value.text} {value.reason}")
    elif isinstance(value, _JsonObject):
        for key in value.duplicate_keys:
            yield SpecProblem(_join(path, key), "key appears more than once in the object")
        for key, child in value.items():
            yield from _document_problems(child, _join(path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _document_problems(child, f"{path}[{index}]")


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


_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _join(path: str, key: str) -> str:
    # A key that is not a plain name (empty, or with dots, brackets, spaces, quotes) is shown
    # quoted in brackets, so that every path names exactly one place in the document.
    if not _PLAIN_KEY.fullmatch(key):
        return f"{'' if path == '$' else path}[{json.dumps(key)}]"
    if path == "$":
        return key
    return f"{path}.{key}"


def _loc_to_path(loc: tuple[Any, ...]) -> str:
    path = "$"
    for part in loc:
        path = f"{path}[{part}]" if isinstance(part, int) else _join(path, str(part))
    return path


_PYDANTIC_TYPE_NAMES = {
    "string_type": "a string",
    "int_type": "an integer",
    "model_type": "an object",
    "dict_type": "an object",
    "list_type": "an array",
}


def _problems_from_pydantic(error: ValidationError) -> Iterator[SpecProblem]:
    for item in error.errors(include_url=False):
        loc = tuple(item["loc"])
        kind = item["type"]
        # Pydantic locates a bad mapping key as (..., key, "[key]"): the path is the key's.
        is_key = loc[-1:] == ("[key]",)
        path = _loc_to_path(loc[:-1] if is_key else loc)
        if kind == "missing":
            message = "required field is missing"
        elif kind == "extra_forbidden":
            message = "unknown field"
        elif kind in _PYDANTIC_TYPE_NAMES:
            message = f"must be {_PYDANTIC_TYPE_NAMES[kind]}, not {_json_type(item['input'])}"
        elif kind == "value_error":
            message = str(item["ctx"]["error"])
        elif kind == "literal_error":
            message = f"must be one of {item['ctx']['expected']}, not {item['input']!r}"
        elif kind == "too_short":
            message = f"must have at least {item['ctx']['min_length']} item(s)"
        elif kind == "too_long":
            message = f"must have at most {item['ctx']['max_length']} item(s)"
        elif kind == "string_too_long":
            message = f"longer than {item['ctx']['max_length']} characters"
        elif kind == "string_unicode":
            # A JSON \ud800-style escape of half a surrogate pair: not a character at all.
            message = "contains a lone surrogate escape (half of a UTF-16 pair), not text"
        else:
            message = item["msg"].replace("Input should be", "must be")
        yield SpecProblem(path, f"this key is {message}" if is_key else message)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"
