"""Prices in each market's format, from CLDR's data (Babel): `89,00 €` in de-DE, `€89.00` in
en-IE, `￥89` in ja-JP (the yen has no minor units), Arabic-Indic digits in ar-EG.

A market is a BCP 47 locale tag such as `de-DE`. Babel formats with the locale's symbols and
patterns but always writes ASCII digits; CLDR gives each locale a default numbering system
(ar-EG: `arab`), whose digits are written here instead.
"""

from __future__ import annotations

import functools
from decimal import Decimal

from babel import Locale, UnknownLocaleError
from babel.numbers import format_currency

# The zero of each decimal numbering system CLDR makes a locale's default (CLDR's
# numberingSystems.xml); each system's digits are the ten code points from its zero.
_ZEROS = {
    "arab": "\u0660",
    "arabext": "\u06f0",
    "beng": "\u09e6",
    "deva": "\u0966",
    "gujr": "\u0ae6",
    "guru": "\u0a66",
    "khmr": "\u17e0",
    "knda": "\u0ce6",
    "laoo": "\u0ed0",
    "mlym": "\u0d66",
    "mtei": "\uabf0",
    "mymr": "\u1040",
    "olck": "\u1c50",
    "orya": "\u0b66",
    "tamldec": "\u0be6",
    "telu": "\u0c66",
    "thai": "\u0e50",
    "tibt": "\u0f20",
}


class UnknownMarketError(ValueError):
    """A locale tag CLDR has no data for."""


@functools.lru_cache(maxsize=256)
def market(tag: str) -> Locale:
    """The CLDR locale of a BCP 47 tag (`de-DE`); UnknownMarketError when there is none."""
    try:
        return Locale.parse(tag, sep="-")
    except (UnknownLocaleError, ValueError, TypeError):
        raise UnknownMarketError(f"unknown locale {tag!r}: CLDR has no data for it") from None


def format_price(amount: str, currency: str, tag: str) -> str:
    """`amount` (a decimal string) of `currency` (ISO 4217) as the market `tag` writes it,
    rounded to the currency's minor units there."""
    locale = market(tag)
    text = format_currency(Decimal(amount), currency, locale=locale, numbering_system="default")
    zero = _ZEROS.get(locale.default_numbering_system)
    if zero is None:
        return text
    return text.translate({ord("0") + digit: ord(zero) + digit for digit in range(10)})
