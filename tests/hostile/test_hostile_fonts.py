"""Uploaded fonts are untrusted input: every malformed file is refused with a reason, and no
mutation of a real font makes the check or the layout engine fail any other way."""

import io

import pytest
from fontTools.ttLib import TTFont
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from renderfarm_dagster.render.fonts import FontError, inspect_font
from renderfarm_dagster.render.typeset import TextStyle, font_set, set_text
from tests.fonts import brand_font

GOOD = brand_font()


def renamed(family: str) -> bytes:
    font = TTFont(io.BytesIO(GOOD))
    for record in font["name"].names:
        if record.nameID in (1, 16):
            record.string = family
    buffer = io.BytesIO()
    font.save(buffer)
    return buffer.getvalue()


def without_table(tag: str) -> bytes:
    font = TTFont(io.BytesIO(GOOD))
    del font[tag]
    buffer = io.BytesIO()
    font.save(buffer)
    return buffer.getvalue()


MALFORMED = {
    "empty": (b"", "no sfnt header"),
    "an svg": (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "no sfnt header"),
    "a zip": (b"PK\x03\x04" + b"\0" * 64, "no sfnt header"),
    "a collection": (b"ttcf\x00\x01\x00\x00" + b"\0" * 64, "font collection"),
    "a web font": (b"wOFF" + b"\0" * 64, "web font (WOFF)"),
    "header only": (GOOD[:12], "do not parse"),
    "truncated tables": (GOOD[: len(GOOD) // 3], "do not parse"),
    "no cmap": (without_table("cmap"), "missing font tables: cmap"),
    "no outlines": (without_table("glyf"), "glyf or CFF"),
    "control characters in the family": (renamed("Acme\x00Sans"), "no usable family"),
    "a family name of 500 letters": (renamed("A" * 500), "no usable family"),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_a_malformed_font_is_refused_with_the_reason(name):
    data, reason = MALFORMED[name]
    with pytest.raises(FontError) as refused:
        inspect_font(data, "fonts/x.ttf")
    assert reason in refused.value.reason
    assert str(refused.value).startswith("fonts/x.ttf: ")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.integers(0, len(GOOD) - 1), st.integers(0, 255)), min_size=1, max_size=8)
)
def test_a_mutated_font_is_refused_or_sets_text_never_anything_else(mutations):
    data = bytearray(GOOD)
    for offset, value in mutations:
        data[offset] = value
    try:
        face = inspect_font(bytes(data), "fonts/mutated.ttf")
    except FontError:
        return
    # Accepted: FreeType and HarfBuzz set text in it (or fall back), and nothing crashes.
    fonts = font_set(((face, bytes(data)),))
    typeset = set_text("Acme 123 Ünïcode", TextStyle((face.family,)), fonts, 400, 2, 30, 20)
    assert typeset.lines >= 1
