"""Prices in each market's format (CLDR through Babel), and the spec's locale fields."""

import json

import pytest

from renderfarm_dagster.market import UnknownMarketError, format_price
from renderfarm_dagster.spec import SpecError, parse_spec


@pytest.mark.parametrize(
    ("amount", "currency", "locale", "written"),
    [
        ("89.00", "EUR", "de-DE", "89,00\u00a0€"),
        ("89.00", "EUR", "en-IE", "€89.00"),
        # The yen has no minor units: rounded, with ja-JP's grouping.
        ("12000.40", "JPY", "ja-JP", "￥12,000"),
        # ar-EG's default numbering system is arab: Arabic-Indic digits and decimal separator.
        # (right-to-left mark, 8 9 ARABIC DECIMAL SEPARATOR 0 0, no-break space, euro)
        ("89.00", "EUR", "ar-EG", "\u200f\u0668\u0669\u066b\u0660\u0660\u00a0€"),
        # fa-IR's is arabext (Extended Arabic-Indic digits).
        # (left-to-right mark, rial, no-break space, 1 ARABIC THOUSANDS SEPARATOR 2 5 0)
        (
            "1250",
            "IRR",
            "fa-IR",
            "\u200e\u0631\u06cc\u0627\u0644\u00a0\u06f1\u066c\u06f2\u06f5\u06f0",
        ),
        ("1234.5", "INR", "hi-IN", "₹1,234.50"),
    ],
)
def test_prices_are_written_as_each_market_writes_them(amount, currency, locale, written):
    assert format_price(amount, currency, locale) == written


@pytest.mark.parametrize("tag", ["xx-YY", "de_DE", "", "en-"])
def test_a_locale_cldr_does_not_know_is_refused_with_its_tag(tag):
    with pytest.raises(UnknownMarketError, match="unknown locale"):
        format_price("1.00", "EUR", tag)


def spec(**changes) -> dict:
    document = {
        "spec_version": 2,
        "product_id": "mug",
        "template": "product-card",
        "locale": "de-DE",
        "layers": {
            "title": {"text": "Thermobecher"},
            "label": {"text": "0,5 l"},
            "primary": {"color": "#1d4e89"},
            "accent": {"color": "#f4a261"},
            "price": {"price": {"amount": "24.90", "currency": "EUR"}},
        },
        "variants": [
            {"variant_id": "de"},
            {"variant_id": "ie", "locale": "en-IE"},
            {
                "variant_id": "jp",
                "locale": "ja-JP",
                "layers": {"price": {"price": {"amount": "3900", "currency": "JPY"}}},
            },
        ],
        "outputs": [{"name": "hero", "width": 200, "height": 200, "format": "png"}],
    }
    document.update(changes)
    return document


def test_each_variant_shows_its_price_in_its_market_or_the_products():
    parsed = parse_spec(json.dumps(spec()).encode(), "specs/mug.json").spec
    prices = {
        v.variant_id: parsed.layer_values(v.variant_id)["price"].get("text")
        for v in parsed.variants
    }
    assert prices == {"de": "24,90\u00a0€", "ie": "€24.90", "jp": "￥3,900"}
    no_locale = spec()
    del no_locale["locale"]
    parsed = parse_spec(json.dumps(no_locale).encode(), "specs/mug.json").spec
    assert parsed.layer_values("de")["price"].get("text") == "€24.90"  # English by default


def test_an_unknown_locale_and_a_layer_with_text_and_price_are_errors_at_their_json_paths():
    document = spec()
    document["variants"][1]["locale"] = "xx-YY"
    document["layers"]["price"]["text"] = "24,90"
    with pytest.raises(SpecError) as raised:
        parse_spec(json.dumps(document).encode(), "specs/mug.json")
    assert [(p.path, p.message) for p in raised.value.problems] == [
        ("layers.price", "sets text and price: a layer is one kind"),
        ("variants[1].locale", "unknown locale 'xx-YY': CLDR has no data for it"),
    ]


def test_a_price_layer_renders_and_fits_only_a_text_layer():
    from renderfarm_dagster.catalog.rendering import render_spec_variant
    from renderfarm_dagster.catalog.templates import bundled_template
    from renderfarm_dagster.spec import template_problems

    document = spec()
    document["variants"].append({"variant_id": "eg", "locale": "ar-EG"})
    parsed = parse_spec(json.dumps(document).encode(), "specs/mug.json").spec
    (hero,) = render_spec_variant(parsed, "eg")
    assert hero.data.startswith(b"\x89PNG")
    template = bundled_template("product-card").template
    assert template_problems(parsed, template) == []
    document["layers"]["primary"] = {"price": {"amount": "1.00", "currency": "EUR"}}
    parsed = parse_spec(json.dumps(document).encode(), "specs/mug.json").spec
    assert [str(p) for p in template_problems(parsed, template)] == [
        "layers.primary: sets text, but layer 'primary' of template 'product-card' is a color layer"
    ]
