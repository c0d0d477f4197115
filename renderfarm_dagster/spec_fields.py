"""The validated field types a spec is made of: ids, colours, text, prices, markets, photo
keys and outputs. The spec's models (spec.py) and the layer kinds, which declare what a spec may
set on their layers (render/kinds/), build on them.

Every validator matches whole strings (`fullmatch`) and names what it expects; spec.py turns
its message into a problem at the value's JSON path.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from renderfarm_dagster.formats import FORMAT_ALIASES, FORMATS
from renderfarm_dagster.keys import ID_PATTERN, LAYOUT_NAME_PATTERN, validate_asset_key
from renderfarm_dagster.market import format_price, market

COLOUR_PATTERN = re.compile(r"#[0-9a-fA-F]{6}")
AMOUNT_PATTERN = re.compile(r"(0|[1-9][0-9]{0,11})(\.[0-9]{1,4})?")
CURRENCY_PATTERN = re.compile(r"[A-Z]{3}")
# Prices of a spec that names no locale are written as in English.
DEFAULT_LOCALE = "en"


class StrictModel(BaseModel):
    """A part of a spec: unknown fields refused, no coercion between JSON types, immutable."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


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


def _check_locale(value: str) -> str:
    market(value)  # raises UnknownMarketError, a ValueError naming the tag
    return value


def _check_asset_key(value: str) -> str:
    try:
        validate_asset_key(value)
    except ValueError as error:
        raise ValueError(str(error).removeprefix("invalid key ")) from None
    return value


def _check_amount(value: str) -> str:
    if not AMOUNT_PATTERN.fullmatch(value):
        raise ValueError('not a decimal amount such as "89.00"')
    return value


def _check_currency(value: str) -> str:
    if not CURRENCY_PATTERN.fullmatch(value):
        raise ValueError("not an ISO 4217 currency code such as EUR")
    return value


def _check_format(value: str) -> str:
    value = FORMAT_ALIASES.get(value, value)
    if value not in FORMATS:
        names = [*FORMATS, *FORMAT_ALIASES]
        raise ValueError(f"must be one of {', '.join(repr(name) for name in names)}, not {value!r}")
    return value


def _check_layout_name(value: str) -> str:
    if not LAYOUT_NAME_PATTERN.fullmatch(value):
        raise ValueError("not a layout name: 1 to 32 of a-z, 0-9 and '-'")
    return value


Id = Annotated[str, AfterValidator(_check_id)]
Colour = Annotated[str, AfterValidator(_check_colour)]
Text = Annotated[str, Field(max_length=200), AfterValidator(_check_text)]
# A market, as a BCP 47 locale tag CLDR knows (`de-DE`): how its prices are written.
LocaleTag = Annotated[str, Field(max_length=35), AfterValidator(_check_locale)]
# A photo's object key, assets/...
AssetKey = Annotated[str, AfterValidator(_check_asset_key)]


class Price(StrictModel):
    amount: Annotated[str, AfterValidator(_check_amount)]
    currency: Annotated[str, AfterValidator(_check_currency)]

    def display(self) -> str:
        """Version 1's own format (kept: version 1 specs render as they always have)."""
        symbol = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥"}.get(self.currency)
        return f"{symbol}{self.amount}" if symbol else f"{self.amount} {self.currency}"

    def format(self, locale: str) -> str:
        """As the market `locale` writes it, from CLDR's data (renderfarm_dagster/market.py)."""
        return format_price(self.amount, self.currency, locale)


# An output's width and height, in pixels.
MIN_OUTPUT_PX, MAX_OUTPUT_PX = 16, 4096


class OutputSpec(StrictModel):
    """One output of every variant: its name, size in pixels, format and quality."""

    name: Id
    width: Annotated[int, Field(ge=MIN_OUTPUT_PX, le=MAX_OUTPUT_PX)]
    height: Annotated[int, Field(ge=MIN_OUTPUT_PX, le=MAX_OUTPUT_PX)]
    format: Annotated[str, AfterValidator(_check_format)]
    quality: Annotated[int, Field(ge=1, le=100)] | None = None
    # The layout of the template's set it is drawn from; None: the nearest in aspect ratio
    # (render/layouts.py).
    layout: Annotated[str, AfterValidator(_check_layout_name)] | None = None

    @property
    def extension(self) -> str:
        return FORMATS[self.format].extension

    @property
    def effective_quality(self) -> int | None:
        return self.quality if self.quality is not None else FORMATS[self.format].default_quality
