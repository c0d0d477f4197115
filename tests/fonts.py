"""Brand fonts for tests, built with fontTools: small real TrueType files, made on the fly so no
font binary is committed."""

from __future__ import annotations

import functools
import io

from fontTools.fontBuilder import FontBuilder
from fontTools.pens.ttGlyphPen import TTGlyphPen

UNITS_PER_EM = 1000
# Letters the test fonts draw; anything else falls back to the bundled fonts.
COVERED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 "


@functools.cache
def brand_font(family: str = "Acme Sans", bold: bool = False, advance: int = 600) -> bytes:
    """A TrueType font of `family`: each covered character a box (a bar for bold), `advance`
    wide, so a test can tell its glyphs from any bundled font's."""
    glyph_names = [".notdef"] + [f"g{ord(c):04x}" for c in COVERED]
    builder = FontBuilder(UNITS_PER_EM, isTTF=True)
    builder.setupGlyphOrder(glyph_names)
    builder.setupCharacterMap({ord(c): f"g{ord(c):04x}" for c in COVERED})
    glyphs = {}
    for name in glyph_names:
        pen = TTGlyphPen(None)
        if name not in (".notdef", "g0020"):
            stroke = 180 if bold else 90
            pen.moveTo((50, 0))
            pen.lineTo((50, 700))
            pen.lineTo((50 + stroke, 700))
            pen.lineTo((50 + stroke, 0))
            pen.closePath()
        glyphs[name] = pen.glyph()
    builder.setupGlyf(glyphs)
    builder.setupHorizontalMetrics({name: (advance, 50) for name in glyph_names})
    builder.setupHorizontalHeader(ascent=800, descent=-200)
    style = "Bold" if bold else "Regular"
    builder.setupNameTable({"familyName": family, "styleName": style})
    builder.setupOS2(usWeightClass=700 if bold else 400, sTypoAscender=800, sTypoDescender=-200)
    builder.setupPost()
    buffer = io.BytesIO()
    builder.save(buffer)
    return buffer.getvalue()
