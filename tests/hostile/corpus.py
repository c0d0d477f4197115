"""Hostile and broken specs: what each one tries, and what the farm must do with it.

Every text payload is placed in every text field that reaches the SVG; those specs are valid
and must render without anything of the payload becoming markup. Every broken document must be
rejected with a SpecError naming the JSON path of the problem.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass

from tests.conftest import SMALL_SPEC

# Where spec text ends up in the SVG (the price is a validated amount and currency code).
TEXT_FIELDS: list[tuple] = [
    ("title",),
    ("subtitle",),
    ("badge",),
    ("variants", 0, "label"),
    ("variants", 0, "title"),
    ("variants", 0, "badge"),
]

TEXT_PAYLOADS = {
    "svg-element": '</text><image href="file:///etc/passwd" width="9" height="9"/><text>',
    "script": "<script>alert(1)</script><svg onload=alert(1)>",
    "entity-references": "&xxe; &amp; &#x26; &lt;image&gt; &#0;",
    "doctype-xxe": '<!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>&xxe;',
    "billion-laughs": '<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">&lol2;',
    "cdata": "]]> <![CDATA[<image href='http://169.254.169.254/'/>]]>",
    "attribute-break": '" onload="alert(1)" x=\'',
    "processing-instruction": '<?xml-stylesheet href="http://169.254.169.254/x.css"?>',
    "css-url": "</style><style>*{fill:url(file:///etc/passwd)}</style>",
    "foreign-object": "<foreignObject><iframe src='file:///etc/passwd'/></foreignObject>",
    "right-to-left": "שלום עולם مرحبا بالعالم",
    "bidi-override": "invoice\u202egpj.exe\u202c",
    "combining-marks": "Z\u0351\u0300\u0301\u0302\u0303\u0304\u0305\u0306" * 8,
    # Emoji, mathematical Fraktur and CJK extension B: all outside the Basic Multilingual Plane.
    "astral-plane": (
        "\U0001f9e5\U0001f3d4\ufe0f \U0001d518\U0001d52b\U0001d526 \U0002070e\U00020731"
    ),
    "zero-width": "a\u200bb\u200dc\ufeffd\u2060e",
    # With the field name in front, 190 to 199 characters: at the 200 limit.
    "near-the-limit": "W" * 190,
    "whitespace-runs": "  many    spaces\u3000and\u00a0nbsp  ",
}


def with_field(path: tuple, value, doc: dict | None = None) -> dict:
    """A copy of `doc` (the small valid spec by default) with the value at `path` replaced."""
    doc = copy.deepcopy(SMALL_SPEC if doc is None else doc)
    target = doc
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return doc


def encoded(doc: dict) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


@dataclass(frozen=True)
class Broken:
    data: Callable[[], bytes]
    path: str  # the JSON path the error must name
    words: str  # words the error must contain


def _doc_text() -> str:
    return json.dumps(SMALL_SPEC)


BROKEN: dict[str, Broken] = {
    # Keys come from ids: nothing may climb out of its prefix or name another object.
    "traversal-product-id": Broken(
        lambda: encoded(with_field(("product_id",), "../../etc/passwd")), "product_id", "id"
    ),
    "slash-product-id": Broken(
        lambda: encoded(with_field(("product_id",), "a/b")), "product_id", "id"
    ),
    "dot-dot-variant-id": Broken(
        lambda: encoded(with_field(("variants", 0, "variant_id"), "..")),
        "variants[0].variant_id",
        "id",
    ),
    "backslash-output-name": Broken(
        lambda: encoded(with_field(("outputs", 0, "name"), "..\\hero")), "outputs[0].name", "id"
    ),
    "url-in-product-id": Broken(
        lambda: encoded(with_field(("product_id",), "http://x")), "product_id", "id"
    ),
    # `$` in a pattern applied with re.match also matches before a final newline.
    "trailing-newline-product-id": Broken(
        lambda: encoded(with_field(("product_id",), "shoe\n")), "product_id", "id"
    ),
    "trailing-newline-variant-id": Broken(
        lambda: encoded(with_field(("variants", 0, "variant_id"), "red\n")),
        "variants[0].variant_id",
        "id",
    ),
    "trailing-newline-output-name": Broken(
        lambda: encoded(with_field(("outputs", 0, "name"), "hero\n")), "outputs[0].name", "id"
    ),
    "trailing-newline-colour": Broken(
        lambda: encoded(with_field(("variants", 0, "colors", "primary"), "#aabbcc\n")),
        "variants[0].colors.primary",
        "#rrggbb",
    ),
    "trailing-newline-currency": Broken(
        lambda: encoded(with_field(("price",), {"amount": "89.00", "currency": "EUR\n"})),
        "price.currency",
        "ISO 4217",
    ),
    "trailing-newline-amount": Broken(
        lambda: encoded(with_field(("price",), {"amount": "89.00\n", "currency": "EUR"})),
        "price.amount",
        "decimal amount",
    ),
    "arabic-indic-digits-in-amount": Broken(
        lambda: encoded(with_field(("price",), {"amount": "\u0668\u0669", "currency": "EUR"})),
        "price.amount",
        "decimal amount",
    ),
    "overlong-id": Broken(
        lambda: encoded(with_field(("product_id",), "a" * 65)), "product_id", "id"
    ),
    # Text that cannot exist in an SVG document even escaped.
    "nul-in-title": Broken(
        lambda: encoded(with_field(("title",), "a\x00b")), "title", "control character U+0000"
    ),
    "escape-sequence-in-label": Broken(
        lambda: encoded(with_field(("variants", 0, "label"), "\x1b[31mred")),
        "variants[0].label",
        "control character U+001B",
    ),
    "next-line-in-badge": Broken(
        lambda: encoded(with_field(("badge",), "a\u0085b")), "badge", "control character U+0085"
    ),
    "lone-surrogate": Broken(
        lambda: _doc_text().replace('"Test Shoe"', '"Test \\ud800 Shoe"').encode(),
        "title",
        "lone surrogate",
    ),
    "blank-title": Broken(lambda: encoded(with_field(("title",), "   ")), "title", "blank"),
    "huge-string": Broken(
        lambda: encoded(with_field(("title",), "W" * 100_000)), "title", "longer than 200"
    ),
    # Numbers JSON allows and Python would take.
    # Each is reported at the value's own path: "$" alone finds nothing in 500 variants.
    "nan-width": Broken(
        lambda: _doc_text().replace('"width": 160', '"width": NaN').encode(),
        "outputs[0].width",
        "NaN is not a valid JSON number",
    ),
    "infinite-height": Broken(
        lambda: _doc_text().replace('"height": 160', '"height": -Infinity').encode(),
        "outputs[0].height",
        "-Infinity is not a valid JSON number",
    ),
    "overflowing-number": Broken(
        lambda: _doc_text().replace('"width": 160', '"width": 1e999').encode(),
        "outputs[0].width",
        "1e999 is out of range",
    ),
    "integer-over-the-digit-limit": Broken(
        lambda: _doc_text().replace('"width": 160', '"width": ' + "9" * 5000).encode(),
        "outputs[0].width",
        "5000 digits",
    ),
    "fractional-width": Broken(
        lambda: encoded(with_field(("outputs", 0, "width"), 160.5)), "outputs[0].width", "integer"
    ),
    "string-width": Broken(
        lambda: encoded(with_field(("outputs", 0, "width"), "160")), "outputs[0].width", "integer"
    ),
    "huge-dimensions": Broken(
        lambda: encoded(with_field(("outputs", 0, "width"), 100_000)),
        "outputs[0].width",
        "4096",
    ),
    "too-many-variants": Broken(
        lambda: encoded(
            with_field(
                ("variants",),
                [{**SMALL_SPEC["variants"][0], "variant_id": f"v{i}"} for i in range(501)],
            )
        ),
        "variants",
        "at most 500",
    ),
    # Documents that are not a spec object.
    "duplicate-top-level-key": Broken(
        lambda: _doc_text().replace('"title": "Test Shoe"', '"title": "A", "title": "B"').encode(),
        "title",
        "more than once",
    ),
    "array": Broken(lambda: b"[1, 2]", "$", "not an array"),
    "string": Broken(lambda: b'"spec"', "$", "not a string"),
    "number": Broken(lambda: b"42", "$", "not a number"),
    "null": Broken(lambda: b"null", "$", "not null"),
    "empty-file": Broken(lambda: b"", "$", "not valid JSON"),
    "utf16-bom": Broken(lambda: _doc_text().encode("utf-16"), "$", "not valid UTF-8"),
    "utf32-bom": Broken(lambda: _doc_text().encode("utf-32"), "$", "not valid UTF-8"),
    "deep-nesting": Broken(lambda: b"[" * 50_000 + b"]" * 50_000, "$", "nested too deeply"),
    "unknown-field": Broken(
        lambda: encoded(with_field(("onload",), "alert(1)")), "onload", "unknown field"
    ),
}
