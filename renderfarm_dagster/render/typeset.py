"""Set a text layer's text with Pango: HarfBuzz shaping, bidirectional reordering (FriBiDi),
Unicode line breaking, shrink to fit, ellipsis; the result as glyph outlines for the SVG.

The outlines go into the document as one <path> per layer, so cairosvg draws them like any
other shape: under and over the template's other elements, with its transforms, clips and
opacity. Layout runs in the design's user units, unhinted, with unrounded glyph positions, so
the same text lays out the same at every output size.
"""

from __future__ import annotations

import atexit
import functools
import math
import shutil
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import cairocffi

from renderfarm_dagster.render import pango as pg
from renderfarm_dagster.render.fonts import (
    DEFAULT_FAMILY,
    GENERIC_FAMILIES,
    FontFace,
    bundled_files,
    fallback_order,
)

P = pg.PANGO_SCALE
# Steps of 8%: few enough tries to stay cheap, fine enough not to shrink needlessly.
SHRINK_STEP = 0.08
# Path coordinates are integers in these fractions of a user unit (1/100: a hundredth of a
# pixel at the design size).
PATH_UNITS = 100
# Baseline to baseline, in font sizes: the same for every line, whichever fonts it falls back to.
LINE_HEIGHT = 1.2
_LARGEST_FREETYPE_PX = 60_000
# Pango lays out one thread at a time here: a font map is not safe to share between threads.
_lock = threading.Lock()


@dataclass(frozen=True)
class TextStyle:
    families: tuple[str, ...]  # the layer's own, first choice first; fallbacks are appended
    bold: bool = False
    language: str = "en"  # BCP 47: picks locale-specific glyphs (CJK) and line-break rules
    align: str = "start"  # start, middle or end of the paragraph's direction
    direction: str | None = None  # "ltr" or "rtl" fixes the paragraph direction; else the text's


@dataclass(frozen=True)
class GlyphRun:
    """Glyphs drawn from one font, left to right as drawn; positions in user units."""

    font: str  # the file
    face_index: int  # the face in a collection (.ttc); 0 otherwise
    text_range: tuple[int, int]  # the characters it draws: text[start:end]
    glyphs: tuple[int, ...]
    x: tuple[float, ...]  # each glyph's origin
    y: tuple[float, ...]
    clusters: tuple[int, ...]  # each glyph's first character's index in the text
    rtl: bool


@dataclass(frozen=True)
class SetText:
    """A layer's text as laid out: outlines and what a caller places and reports."""

    text: str
    size: float
    lines: int
    widest: float  # the widest line's advance
    left: float  # where the leftmost line starts, from the box's left
    # SVG path data in 1/PATH_UNITS user units; origin at the box's left edge and the first
    # line's baseline.
    path: str
    runs: tuple[GlyphRun, ...]
    rtl: bool  # the paragraph's direction
    line_starts: tuple[int, ...]  # the index in `text` of each line's first character
    ellipsized: bool
    uncovered: str  # characters no available font has, in text order, each once
    fonts: tuple[str, ...]  # the files drawn from
    # The same shape as `path`, as cairo's own path (cairo_path_t), for render/raster.py to
    # draw without parsing `path` again.
    outline: object = field(compare=False, repr=False)


class FontSet:
    """The bundled fonts plus a catalog's brand fonts, as one private fontconfig for Pango."""

    def __init__(self, brand_fonts: Iterable[tuple[FontFace, bytes]] = ()):
        files = bundled_files()
        files += [_brand_font_file(face.sha256, data) for face, data in brand_fonts]
        # Reference counted: the font map holds its own reference while it lives.
        self._config = pg.ffi.gc(pg.fontconfig.FcConfigCreate(), pg.fontconfig.FcConfigDestroy)
        for path in files:
            if not pg.fontconfig.FcConfigAppFontAddFile(self._config, path.encode()):
                raise OSError(f"fontconfig could not load {path}")
        self._font_map = pg.ffi.gc(
            pg.pangocairo.pango_cairo_font_map_new_for_font_type(pg.CAIRO_FONT_TYPE_FT),
            pg.gobject.g_object_unref,
        )
        pg.pangoft2.pango_fc_font_map_set_config(self._font_map, self._config)
        self._contexts: dict[str, object] = {}

    def context(self, language: str):
        if language not in self._contexts:
            context = pg.ffi.gc(
                pg.pango.pango_font_map_create_context(self._font_map), pg.gobject.g_object_unref
            )
            options = cairocffi.FontOptions()
            # Unhinted: glyph outlines and advances scale linearly, so one layout serves every
            # output size and matches HarfBuzz's own positions.
            options.set_hint_metrics(cairocffi.HINT_METRICS_OFF)
            options.set_hint_style(cairocffi.HINT_STYLE_NONE)
            pg.pangocairo.pango_cairo_context_set_font_options(context, _cast(options._pointer))
            pg.pango.pango_context_set_round_glyph_positions(context, False)
            pg.pango.pango_context_set_language(
                context, pg.pango.pango_language_from_string(language.encode())
            )
            # Keep a reference: the font options must outlive the context's use of them.
            self._contexts[language] = (context, options)
        return self._contexts[language][0]


@functools.lru_cache(maxsize=8)
def font_set(brand_fonts: tuple[tuple[FontFace, bytes], ...] = ()) -> FontSet:
    """A font set per distinct set of brand fonts (building one scans every file)."""
    return FontSet(brand_fonts)


# The variants of a product mostly share their title, subtitle and price: set once per process.
@functools.lru_cache(maxsize=256)
def set_text(
    text: str,
    style: TextStyle,
    fonts: FontSet,
    width: float,
    max_lines: int,
    max_size: float,
    min_size: float,
) -> SetText:
    """Wrap and shrink `text` into at most `max_lines` lines of `width`.

    Lines break at Unicode line-break opportunities (UAX #14, with dictionary breaks for Thai);
    a word wider than the line breaks between grapheme clusters. The largest size from
    `max_size` down to `min_size` at which the text fits wins; past `min_size`, the last line
    ends in an ellipsis at the text's logical end (the left for right-to-left text).
    The result is immutable and cached: the same arguments give the same object.
    """
    text = " ".join(text.split())
    with _lock:
        layout = pg.ffi.gc(
            pg.pango.pango_layout_new(fonts.context(style.language)), pg.gobject.g_object_unref
        )
        encoded = text.encode("utf-8")
        pg.pango.pango_layout_set_text(layout, encoded, len(encoded))
        pg.pango.pango_layout_set_width(layout, round(width * P))
        pg.pango.pango_layout_set_wrap(layout, pg.PANGO_WRAP_WORD_CHAR)
        rtl = _paragraph_rtl(layout, encoded, style, fonts)
        size = max_size
        weight = pg.PANGO_WEIGHT_BOLD if style.bold else pg.PANGO_WEIGHT_NORMAL
        while True:
            _set_font(layout, style.families, style.language, weight, False, size)
            lines = pg.pango.pango_layout_get_line_count(layout)
            if lines <= max_lines or size <= min_size:
                break
            size = max(min_size, size - max(1.0, size * SHRINK_STEP))
        if lines > max_lines:
            pg.pango.pango_layout_set_height(layout, -max_lines)
            pg.pango.pango_layout_set_ellipsize(layout, pg.PANGO_ELLIPSIZE_END)
        return _result(layout, text, size, rtl)


@dataclass(frozen=True)
class RunStyle:
    """How a run of a template's own text (a <text> or <tspan>, not a layer) is set."""

    families: tuple[str, ...]
    weight: int = pg.PANGO_WEIGHT_NORMAL  # CSS's 100-900
    italic: bool = False
    language: str = "en"
    letter_spacing: float = 0.0  # user units added after each grapheme (CSS letter-spacing)
    kerning: bool = True  # font-kerning: none (or SVG's kerning="0") turns the font's off


@functools.lru_cache(maxsize=1024)
def set_run(text: str, style: RunStyle, fonts: FontSet, size: float) -> SetText:
    """`text` set on one line at `size`, as SVG sets a run of a <text>: no wrapping, no
    shrinking. The path's origin is the run's start on its baseline; `widest` is its advance."""
    with _lock:
        layout = pg.ffi.gc(
            pg.pango.pango_layout_new(fonts.context(style.language)), pg.gobject.g_object_unref
        )
        encoded = text.encode("utf-8")
        pg.pango.pango_layout_set_text(layout, encoded, len(encoded))
        rtl = pg.pango.pango_find_base_dir(encoded, len(encoded)) == pg.PANGO_DIRECTION_RTL
        _set_font(layout, style.families, style.language, style.weight, style.italic, size)
        if style.letter_spacing or not style.kerning:
            attributes = pg.ffi.gc(pg.pango.pango_attr_list_new(), pg.pango.pango_attr_list_unref)
            if style.letter_spacing:
                spacing = pg.pango.pango_attr_letter_spacing_new(round(style.letter_spacing * P))
                pg.pango.pango_attr_list_insert(attributes, spacing)  # the list owns it now
            if not style.kerning:
                features = pg.pango.pango_attr_font_features_new(b"kern 0")
                pg.pango.pango_attr_list_insert(attributes, features)
            pg.pango.pango_layout_set_attributes(layout, attributes)
        return _result(layout, text, size, rtl)


def _paragraph_rtl(layout, text: bytes, style: TextStyle, fonts: FontSet) -> bool:
    """Fix the paragraph direction (the template's, else the first strong character's) and
    align within it: Pango's own alignment is physical once auto-direction is off."""
    if style.direction is not None:
        rtl = style.direction == "rtl"
    else:
        # The first strongly directional character decides (UAX #9, P2-P3); none: LTR.
        rtl = pg.pango.pango_find_base_dir(text, len(text)) == pg.PANGO_DIRECTION_RTL
    pg.pango.pango_layout_set_auto_dir(layout, False)
    # The context is shared by this font set's layouts: set for each, under the lock.
    pg.pango.pango_context_set_base_dir(
        fonts.context(style.language), pg.PANGO_DIRECTION_RTL if rtl else pg.PANGO_DIRECTION_LTR
    )
    physical = {"start": "left", "middle": "center", "end": "right"}[style.align]
    if rtl and physical != "center":
        physical = "right" if physical == "left" else "left"
    pg.pango.pango_layout_set_alignment(layout, _ALIGNMENTS[physical])
    pg.pango.pango_layout_context_changed(layout)
    return rtl


_ALIGNMENTS = {
    "left": pg.PANGO_ALIGN_LEFT,
    "center": pg.PANGO_ALIGN_CENTER,
    "right": pg.PANGO_ALIGN_RIGHT,
}


def _set_font(
    layout, families: tuple[str, ...], language: str, weight: int, italic: bool, size: float
) -> None:
    description = pg.pango.pango_font_description_new()
    named = [DEFAULT_FAMILY if f in GENERIC_FAMILIES else f for f in families]
    stack = list(dict.fromkeys([*named, *fallback_order(language)]))
    pg.pango.pango_font_description_set_family(description, ",".join(stack).encode())
    pg.pango.pango_font_description_set_weight(description, weight)
    if italic:
        pg.pango.pango_font_description_set_style(description, pg.PANGO_STYLE_ITALIC)
    pg.pango.pango_font_description_set_absolute_size(description, size * P)
    pg.pango.pango_layout_set_font_description(layout, description)
    pg.pango.pango_font_description_free(description)


def _result(layout, text: str, size: float, rtl: bool) -> SetText:
    # Character index of each UTF-8 byte offset, to name characters and clusters.
    char_at = {}
    offset = 0
    for index, char in enumerate(text):
        char_at[offset] = index
        offset += len(char.encode("utf-8"))
    char_at[offset] = len(text)
    # Unbounded: cairo leaves out glyphs outside a bounded surface when it builds a path.
    surface = cairocffi.RecordingSurface(cairocffi.CONTENT_ALPHA, None)
    context = cairocffi.Context(surface)
    # Drawn in user units, kept in PATH_UNITS: the path is copied at the identity matrix.
    # FreeType takes glyphs below 2^16 pixels: a larger one is drawn smaller, its path scaled
    # back up (outlines are unhinted, so they scale exactly).
    shrink = max(1, math.ceil(size * PATH_UNITS / _LARGEST_FREETYPE_PX))
    context.scale(PATH_UNITS / shrink, PATH_UNITS / shrink)
    cairo_context = pg.ffi.cast("cairo_t *", int(cairocffi.ffi.cast("uintptr_t", context._pointer)))
    runs: list[GlyphRun] = []
    uncovered: dict[str, None] = {}
    used: dict[str, None] = {}
    widest, left = 0.0, None
    logical = pg.ffi.new("PangoRectangle *")
    iterator = pg.pango.pango_layout_get_iter(layout)
    line_index = 0
    line_starts = []
    try:
        while True:
            pg.pango.pango_layout_iter_get_line_extents(iterator, pg.ffi.NULL, logical)
            line_x = logical.x / P
            widest = max(widest, logical.width / P)
            left = line_x if left is None else min(left, line_x)
            line = pg.pango.pango_layout_iter_get_line_readonly(iterator)
            line_starts.append(char_at.get(line.start_index, len(text)))
            # Lines are spaced LINE_HEIGHT x size by the caller: Pango's spacing follows each
            # font's own line height, which differs between the fallback fonts.
            baseline = line_index * size * LINE_HEIGHT
            context.move_to(line_x, baseline)
            pg.pangocairo.pango_cairo_layout_line_path(cairo_context, line)
            line_index += 1
            if not pg.pango.pango_layout_iter_next_line(iterator):
                break
    finally:
        pg.pango.pango_layout_iter_free(iterator)
    context.identity_matrix()
    path, outline = _outline(context, shrink)
    iterator = pg.pango.pango_layout_get_iter(layout)
    line, run_line = None, -1
    try:
        while True:
            if pg.pango.pango_layout_iter_get_line_readonly(iterator) != line:
                line = pg.pango.pango_layout_iter_get_line_readonly(iterator)
                run_line += 1
            run = pg.pango.pango_layout_iter_get_run_readonly(iterator)
            if run != pg.ffi.NULL:
                pg.pango.pango_layout_iter_get_run_extents(iterator, pg.ffi.NULL, logical)
                # On the baseline the line is drawn at, as above.
                baseline = round(run_line * size * LINE_HEIGHT * P)
                runs.append(_glyph_run(run, logical.x, baseline, char_at, uncovered, used))
            if not pg.pango.pango_layout_iter_next_run(iterator):
                break
    finally:
        pg.pango.pango_layout_iter_free(iterator)
    return SetText(
        text=text,
        size=size,
        lines=line_index,
        widest=widest,
        left=left or 0.0,
        path=path,
        outline=outline,
        runs=tuple(runs),
        rtl=rtl,
        line_starts=tuple(line_starts),
        ellipsized=bool(pg.pango.pango_layout_is_ellipsized(layout)),
        uncovered="".join(uncovered),
        fonts=tuple(sorted(used)),
    )


def _glyph_run(run, x0: int, baseline: int, char_at, uncovered, used) -> GlyphRun:
    item = run.item
    glyph_string = run.glyphs
    pattern = pg.pangoft2.pango_fc_font_get_pattern(item.analysis.font)
    file = pg.ffi.new("char **")
    pg.fontconfig.FcPatternGetString(pattern, b"file", 0, file)
    font = pg.ffi.string(file[0]).decode()
    face_index = pg.ffi.new("int *")
    pg.fontconfig.FcPatternGetInteger(pattern, b"index", 0, face_index)
    used[font] = None
    glyphs, xs, ys, clusters = [], [], [], []
    x = x0
    for index in range(glyph_string.num_glyphs):
        info = glyph_string.glyphs[index]
        byte = item.offset + glyph_string.log_clusters[index]
        if info.glyph & pg.PANGO_GLYPH_UNKNOWN_FLAG:
            uncovered[chr(info.glyph & ~pg.PANGO_GLYPH_UNKNOWN_FLAG)] = None
        glyphs.append(info.glyph)
        xs.append((x + info.geometry.x_offset) / P)
        ys.append((baseline + info.geometry.y_offset) / P)
        clusters.append(char_at.get(byte, -1))
        x += info.geometry.width
    start = char_at.get(item.offset, -1)
    end = char_at.get(item.offset + item.length, -1)
    return GlyphRun(
        font=font,
        face_index=face_index[0],
        text_range=(start, end),
        glyphs=tuple(glyphs),
        x=tuple(xs),
        y=tuple(ys),
        clusters=tuple(clusters),
        rtl=bool(item.analysis.level % 2),
    )


def _outline(context: cairocffi.Context, scale: int) -> tuple[str, object]:
    """The context's path, times `scale` (in PATH_UNITS of a user unit), as SVG path data, and
    as cairo's own path with each point rounded to the same integers, so both draw exactly the
    same shape.

    cairo's path is what render/raster.py appends for a <path> with this data, instead of
    cairosvg parsing the string again: glyph outlines are long (3,000 numbers for a title).
    """
    raw = cairocffi.ffi.gc(
        cairocffi.cairo.cairo_copy_path(context._pointer), cairocffi.cairo.cairo_path_destroy
    )
    data = raw.data
    parts = []
    index = 0
    while index < raw.num_data:
        header = data[index].header
        numbers = []
        for offset in range(1, header.length):
            point = data[index + offset].point
            point.x, point.y = round(point.x * scale), round(point.y * scale)
            numbers += (int(point.x), int(point.y))
        letter = _PATH_LETTERS[header.type]
        parts.append(letter + " ".join(map(str, numbers)))
        index += header.length
    return "".join(parts), raw


_PATH_LETTERS = {
    cairocffi.PATH_MOVE_TO: "M",
    cairocffi.PATH_LINE_TO: "L",
    cairocffi.PATH_CURVE_TO: "C",
    cairocffi.PATH_CLOSE_PATH: "Z",
}


def _brand_font_file(sha256: str, data: bytes) -> str:
    """The font's bytes as a file fontconfig can open, named by content (written once), in
    this process's own private folder."""
    path = _brand_font_folder() / f"{sha256}.font"
    if not path.is_file():
        path.write_bytes(data)
    return str(path)


@functools.cache
def _brand_font_folder() -> Path:
    # mkdtemp: a new folder only this user can enter, never one planted in a shared /tmp.
    folder = Path(tempfile.mkdtemp(prefix="renderfarm-fonts-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def _cast(pointer):
    return pg.ffi.cast("cairo_font_options_t *", int(cairocffi.ffi.cast("uintptr_t", pointer)))
