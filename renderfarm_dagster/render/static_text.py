"""A template's own text (headings and labels that are not layers: <text> with <tspan> runs, as
every design tool writes them), set by Pango like the layers' text and placed as glyph outlines,
so no text anywhere reaches cairosvg's toy text API (no shaping, no kerning, no fallback).

SVG's text layout as design tools use it: each run starts where the previous one ended; an
absolute `x` or `y` (the first of a list, or each character's of a list) starts a new text chunk,
`dx`/`dy` shift the pen, and `text-anchor` aligns each chunk; whitespace is collapsed unless
`xml:space="preserve"` or `white-space: pre` says otherwise; `font-family`, `font-size` (in px,
pt, em, % or keywords), `font-weight`, `font-style`, `letter-spacing` and `word-spacing` are
inherited as in CSS; decorations and baselines are placed from the font's metrics
(render/fonts.py's font_metrics); textLength spreads or stretches an element's text.
Characters moved or turned one by one (dx, dy, rotate) keep their run's kerning. What is not
followed (docs/templates-and-specs.md): vertical writing.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from xml.etree import ElementTree as ET

from renderfarm_dagster.render.fonts import DEFAULT_FAMILY, FontMetrics, font_metrics
from renderfarm_dagster.render.kinds.base import (
    STROKE_LENGTHS,
    LayoutDocument,
    number_text,
    outline_strokes,
)
from renderfarm_dagster.render.svg_document import (
    MAX_DESIGN_SIZE,
    NUMBER,
    RF_NS,
    TEXT_OUTLINES,
    XML_NS,
    Lines,
    floats,
    property_value,
    style_declarations,
)
from renderfarm_dagster.render.typeset import PATH_UNITS, RunStyle, SetText, set_run

# Inherited into every run; read from style="" first, then the attribute.
_FONT_PROPERTIES = (
    "font-family",
    "font-size",
    "font-weight",
    "font-style",
    "text-anchor",
    "letter-spacing",
    "word-spacing",
    "font-kerning",
    "kerning",
)
# What only positions a run, never copied onto its outlines.
_TEXT_ONLY = frozenset(
    {"x", "y", "dx", "dy", "rotate", "textLength", "lengthAdjust", "id", "class"}
)
_DEFAULT_SIZE = 16.0  # CSS's medium
_SIZE_KEYWORDS = {
    "xx-small": 9.0, "x-small": 10.0, "small": 13.0, "medium": 16.0, "large": 18.0,
    "x-large": 24.0, "xx-large": 32.0, "xxx-large": 48.0,
}  # fmt: skip
_UNITS = {
    "": 1.0,
    "px": 1.0,
    "pt": 4 / 3,
    "pc": 16.0,
    "in": 96.0,
    "cm": 96 / 2.54,
    "mm": 9.6 / 2.54,
}
_LENGTH = re.compile(rf"({NUMBER})\s*(px|pt|pc|in|cm|mm|em|ex|rem|%)?", re.IGNORECASE)
_WEIGHTS = {"normal": 400, "bold": 700}


def _relative_weight(value: str, parent: int) -> int:
    """CSS's font-weight, bolder and lighter stepping from the parent's (CSS Fonts 4 table)."""
    value = value.lower()
    if value == "bolder":
        return 400 if parent < 350 else 700 if parent < 550 else 900
    if value == "lighter":
        return 100 if parent < 550 else 400 if parent < 750 else 700
    if value in _WEIGHTS:
        return _WEIGHTS[value]
    return int(value) if value.isdigit() and 1 <= int(value) <= 1000 else parent


_CONTAINERS = frozenset({"tspan", "a"})
_DECORATIONS = ("underline", "overline", "line-through")
# Carried with the computed properties: what a spacing in % is of; an element's own
# alignment-baseline ("inherit" keeps its parent's).
_VIEWPORT_WIDTH = "-viewport-width"
_ALIGNMENT = "-alignment-baseline"
# CSS's generic families: the text is drawn in the bundled fonts (render/fonts.py).
CSS_GENERIC_FAMILIES = frozenset(
    {"serif", "sans-serif", "monospace", "cursive", "fantasy", "system-ui"}
)
_RF_LAYER = f"{{{RF_NS}}}layer"


@dataclass
class _Char:
    char: str
    style: RunStyle
    size: float
    anchor: str
    owners: tuple[ET.Element, ...]  # the runs it is inside, outermost first (not the <text>)
    x: float | None = None
    y: float | None = None
    dx: float = 0.0
    dy: float = 0.0
    word_spacing: float = 0.0  # added after it, if it is a space
    rotate: float = 0.0  # degrees, about its own origin


@dataclass
class _Segment:
    text: str
    style: RunStyle
    size: float
    owners: tuple[ET.Element, ...]
    anchor: str  # its chunk's alignment, if it starts one
    x: float
    y: float
    set: SetText | None = field(default=None, repr=False)
    stretch: float = 1.0  # horizontal scale (textLength with lengthAdjust="spacingAndGlyphs")
    rotate: float = 0.0  # degrees (a rotated character is a segment of its own)


def set_static_text(document: LayoutDocument) -> list[SetText]:
    """Replace every <text> left in the document (the layers' are already outlines) with a
    group of glyph outlines; returns what was set, for the rasteriser's fast path."""
    results: list[SetText] = []
    stack: list[tuple[ET.Element, dict[str, str]]] = [(document.root, {})]
    while stack:
        element, inherited = stack.pop()
        computed = _computed(element, inherited)
        if element.tag == "text":
            group = _outlines(element, computed, document, results)
            document.replace(element, group)
            continue
        stack.extend((child, computed) for child in reversed(element))
    return results


@dataclass(frozen=True)
class FontUse:
    """A family stack the template's own text is set in, where first asked for."""

    families: tuple[str, ...]  # first choice first: the family it was designed in
    bold: bool
    line: int
    element: str


def static_font_uses(root: ET.Element, lines: Lines) -> tuple[FontUse, ...]:
    """Each distinct font the template's own text (not its layers) asks for, at its first
    line: for validation (is it in the catalog?) and for loading brand fonts to render it."""
    uses: dict[tuple[tuple[str, ...], bool], FontUse] = {}
    stack: list[tuple[ET.Element, dict[str, str], bool]] = [(root, {}, False)]
    while stack:
        element, inherited, in_text = stack.pop()
        if element.tag == "text" and element.get(_RF_LAYER) is not None:
            continue
        computed = _computed(element, inherited)
        in_text = in_text or element.tag == "text"
        if in_text and element.tag in ("text", *_CONTAINERS) and _has_text(element):
            style = _run_style(computed, "en")
            use = FontUse(style.families, style.weight >= 600, lines.get(element, 0), element.tag)
            known = uses.get((use.families, use.bold))
            if known is None or use.line < known.line:
                uses[(use.families, use.bold)] = use
        stack.extend((child, computed, in_text) for child in reversed(element))
    return tuple(sorted(uses.values(), key=lambda use: use.line))


def _has_text(element: ET.Element) -> bool:
    return bool((element.text or "").strip()) or any(
        (child.tail or "").strip() for child in element
    )


def _computed(element: ET.Element, inherited: dict[str, str]) -> dict[str, str]:
    """The font properties an element has, its own over those it inherits; font-size resolved
    to a number of user units (em and % are relative to the inherited size)."""
    own = dict(inherited)
    declared = dict(style_declarations(element))
    for name in (*_FONT_PROPERTIES, *STROKE_LENGTHS, "white-space", "fill", "dominant-baseline"):
        value = declared.get(name, element.get(name))
        if value is not None and value.strip() and value.strip() != "inherit":
            own[name] = value.strip()
    # alignment-baseline is not inherited, but "inherit" takes the parent's.
    own_alignment = _own(element, "alignment-baseline") or "auto"
    parent_alignment = inherited.get(_ALIGNMENT, "auto")
    own[_ALIGNMENT] = parent_alignment if own_alignment == "inherit" else own_alignment
    # Decorations are not inherited but drawn across the text of every descendant, in the
    # colour of the element that declares them.
    decorations = [d for d in own.get("text-decoration", "").split(";") if d]
    for kind in (_own(element, "text-decoration") or "").lower().split():
        if kind in _DECORATIONS:
            decorations.append(f"{kind}={own.get('fill', '#000000')}")
    own["text-decoration"] = ";".join(decorations)
    if "font-weight" in own:
        own["font-weight"] = str(
            _relative_weight(own["font-weight"], int(inherited.get("font-weight", "400")))
        )
    parent_size = float(inherited.get("font-size", _DEFAULT_SIZE))
    own["font-size"] = str(font_size_px(own.get("font-size"), parent_size))
    space = element.get(f"{{{XML_NS}}}space")
    if space is not None:
        own["xml:space"] = space
    return own


def _own(element: ET.Element, name: str) -> str | None:
    """A property the element declares itself (style="" over the attribute)."""
    value = property_value(element, name)
    return value.strip() if value is not None and value.strip() else None


def font_size_px(value: str | None, parent: float) -> float:
    """A font-size in user units: keywords, lengths, em and % of the `parent`'s size."""
    if value is None:
        return parent
    value = value.strip().lower()
    if value in _SIZE_KEYWORDS:
        return _SIZE_KEYWORDS[value]
    if value in ("larger", "smaller"):
        return parent * 1.2 if value == "larger" else parent / 1.2
    match = _LENGTH.fullmatch(value)
    if not match:
        return parent
    number, unit = float(match.group(1)), (match.group(2) or "").lower()
    if number < 0:
        return parent  # an invalid value, ignored as CSS ignores it
    if unit in ("em", "rem"):
        size = number * parent
    elif unit == "ex":
        size = number * parent / 2
    elif unit == "%":
        size = number * parent / 100
    else:
        size = number * _UNITS[unit]
    # Nothing larger than the largest design can show; Pango's sizes are bounded integers.
    return min(size, MAX_DESIGN_SIZE)


def _run_style(computed: dict[str, str], language: str) -> RunStyle:
    families = tuple(
        family
        for family in (
            entry.strip().strip("'\"").strip()
            for entry in computed.get("font-family", DEFAULT_FAMILY).split(",")
        )
        if family
    )
    weight = int(computed.get("font-weight", "400"))
    italic = computed.get("font-style", "normal").lower() in ("italic", "oblique")
    size = float(computed.get("font-size", _DEFAULT_SIZE))
    viewport_width = float(computed.get(_VIEWPORT_WIDTH, "0"))
    letter_spacing = _spacing(computed.get("letter-spacing"), size, viewport_width)
    kerning = computed.get("font-kerning", "auto") != "none" and computed.get(
        "kerning", "auto"
    ).strip() not in ("0", "0px")
    return RunStyle(
        families or (DEFAULT_FAMILY,), weight, italic, language, letter_spacing, kerning
    )


def _spacing(value: str | None, size: float, viewport_width: float = 0.0) -> float:
    """letter-spacing or word-spacing in user units ("normal", a length, em of the run's size,
    % of the viewport's width as SVG lengths are), bounded by the size: a spacing beyond that is
    no design."""
    if not value or value.strip().lower() == "normal":
        return 0.0
    match = _LENGTH.fullmatch(value.strip().lower())
    if not match:
        return 0.0
    number, unit = float(match.group(1)), (match.group(2) or "")
    if unit in ("em", "rem"):
        spacing = number * size
    elif unit == "%":
        spacing = number * viewport_width / 100
    else:
        spacing = number * _UNITS.get(unit, 1.0)
    return max(-size, min(size, spacing))


def _numbers(text: str | None, size: float, extent: float) -> list[float]:
    """A list of lengths in user units: px and absolute units, em and ex of the font `size`,
    % of the viewport's `extent` along the axis. A value that is no length ends the list."""
    if not text:
        return []
    numbers = []
    for part in re.split(r"[\s,]+", text.strip()):
        match = _LENGTH.fullmatch(part)
        if not match:
            break
        number, unit = float(match.group(1)), (match.group(2) or "").lower()
        if unit in _UNITS:
            numbers.append(number * _UNITS[unit])
        elif unit in ("em", "rem"):
            numbers.append(number * size)
        elif unit == "ex":
            numbers.append(number * size / 2)
        elif unit == "%":
            numbers.append(number * extent / 100)
        else:
            break
    return numbers


def _characters(
    text: ET.Element, computed: dict[str, str], language: str, viewport: tuple[float, float]
) -> list[_Char]:
    """The <text>'s characters in document order, each with its run's style, whitespace
    handled as SVG 1.1 says (collapsed unless preserved)."""
    chars: list[_Char] = []

    def add(content: str | None, style: dict[str, str], owners: tuple[ET.Element, ...]) -> None:
        if not content:
            return
        run_style = _run_style(style, language)
        size = float(style["font-size"])
        anchor = style.get("text-anchor", "start")
        preserve = style.get("xml:space") == "preserve" or style.get("white-space", "").startswith(
            "pre"
        )
        if preserve:
            content = content.replace("\n", " ").replace("\t", " ").replace("\r", " ")
        else:
            content = re.sub(r"[\n\r]", "", content).replace("\t", " ")
        for char in content:
            if not preserve and char == " " and (not chars or chars[-1].char == " "):
                continue  # collapsed, and none at the start
            spacing = (
                _spacing(style.get("word-spacing"), size, float(style.get(_VIEWPORT_WIDTH, "0")))
                if char == " "
                else 0.0
            )
            chars.append(_Char(char, run_style, size, anchor, owners, word_spacing=spacing))

    def visit(element: ET.Element, style: dict[str, str], owners: tuple[ET.Element, ...]) -> None:
        add(element.text, style, owners)
        for child in element:
            if child.tag in _CONTAINERS:
                visit(child, _computed(child, style), (*owners, child))
            add(child.tail, style, owners)

    visit(text, computed, ())
    if computed.get("xml:space") != "preserve":
        while chars and chars[-1].char == " ":
            chars.pop()
    _assign_positions(text, chars, float(computed["font-size"]), viewport)
    return chars


def _assign_positions(
    text: ET.Element, chars: list[_Char], size: float, viewport: tuple[float, float]
) -> None:
    """x, y, dx and dy lists go to the characters of their element, in order; a run's own
    values win over its ancestors' (they are assigned after)."""
    for element in [text, *[e for e in text.iter() if e.tag in _CONTAINERS]]:
        mine = chars if element is text else [c for c in chars if element in c.owners]
        own_size = mine[0].size if mine and element is not text else size
        for name, extent in zip(("x", "y", "dx", "dy"), (*viewport, *viewport), strict=True):
            for char, value in zip(
                mine, _numbers(element.get(name), own_size, extent), strict=False
            ):
                setattr(char, name, value)
        angles = _numbers(element.get("rotate"), 0.0, 0.0)
        # The last angle holds for the characters beyond the list.
        for index, char in enumerate(mine):
            if angles:
                char.rotate = angles[min(index, len(angles) - 1)]


def _segments(chars: list[_Char], setter: Callable[[_Segment], SetText]) -> list[list[_Segment]]:
    """The characters as runs of one style, grouped in text chunks (each starts at an absolute
    position), each run set by `setter` and placed at the pen, which it then advances."""
    chunks: list[list[_Segment]] = []
    pen_x = pen_y = 0.0
    current: _Segment | None = None
    word_spacing = 0.0  # after the previous character
    for char in chars:
        new_chunk = not chunks or char.x is not None or char.y is not None
        shifted = bool(char.dx or char.dy or word_spacing or char.rotate)
        same_run = current is not None and (current.style, current.size, current.owners) == (
            char.style,
            char.size,
            char.owners,
        )
        if current is not None and (not same_run or new_chunk or shifted or current.rotate):
            current.set = setter(current)
            pen_x = current.x + current.set.widest
            same_font = (current.style, current.size) == (char.style, char.size)
            if same_font and not new_chunk:
                # A run split only to move or turn a character, or by a <tspan> of the same
                # font: the pen advances as in the unsplit run, its kerning pair kept.
                pen_x = current.x + _kerned_advance(current, char.char, setter)
            current = None
        pen_x = (char.x if char.x is not None else pen_x) + char.dx + word_spacing
        word_spacing = char.word_spacing
        pen_y = (char.y if char.y is not None else pen_y) + char.dy
        if new_chunk:
            chunks.append([])
        if current is None:
            current = _Segment(
                char.char, char.style, char.size, char.owners, char.anchor, pen_x, pen_y
            )
            current.rotate = char.rotate
            chunks[-1].append(current)
        else:
            current.text += char.char
    if current is not None:
        current.set = setter(current)
    return chunks


def _kerned_advance(segment: _Segment, following: str, setter) -> float:
    """The segment's advance where `following` comes next in its run: the pair's width less
    the following character's, so that a kerning pair split by dx or rotate keeps its kern."""
    pair = dataclasses.replace(segment, text=segment.text + following, set=None)
    alone = dataclasses.replace(segment, text=following, set=None)
    return setter(pair).widest - setter(alone).widest


def _outlines(
    text: ET.Element, computed: dict[str, str], document: LayoutDocument, results: list[SetText]
) -> ET.Element:
    """The <text> as a group (its own attributes but positions) of one outline per run."""
    group = ET.Element(
        "g", {name: value for name, value in text.attrib.items() if name not in _TEXT_ONLY}
    )
    if text.get("id"):
        group.set("id", text.get("id"))
    group.set(TEXT_OUTLINES, "outlines")

    def setter(segment: _Segment) -> SetText:
        return set_run(segment.text, segment.style, document.fonts, segment.size)

    view_box = floats(document.root.get("viewBox"), 4)
    viewport = (view_box[2], view_box[3]) if view_box else (100.0, 100.0)
    computed = {**computed, _VIEWPORT_WIDTH: str(viewport[0])}
    chars = _characters(text, computed, document.language, viewport)
    chunks = _segments(chars, setter)
    _fit_text_lengths(text, chunks, document, viewport[0])
    placed: list = []  # each run's path, where it was placed, and the run
    for chunk in chunks:
        width = chunk[-1].x + chunk[-1].set.widest * chunk[-1].stretch - chunk[0].x
        shift = {"middle": width / 2, "end": width}.get(chunk[0].anchor, 0.0)
        for segment in chunk:
            attributes = {}
            for owner in segment.owners:
                attributes.update(
                    (name, value) for name, value in owner.attrib.items() if name not in _TEXT_ONLY
                )
            results.append(segment.set)
            metrics = _metrics(segment.set)
            x = segment.x - shift
            y = segment.y + _baseline_shift(text, segment, computed, metrics)
            strokes = {name: computed.get(name) for name in STROKE_LENGTHS}
            for owner in segment.owners:
                strokes.update((n, _own(owner, n)) for n in STROKE_LENGTHS if _own(owner, n))
            attributes.update(outline_strokes(strokes, PATH_UNITS))
            attributes.update(
                {
                    "d": segment.set.path,
                    "transform": (
                        f"translate({number_text(x)} {number_text(y)}) "
                        + (f"rotate({segment.rotate:g}) " if segment.rotate else "")
                        + f"scale({segment.stretch / PATH_UNITS:g} {1 / PATH_UNITS})"
                    ),
                    "fill-rule": "nonzero",
                }
            )
            placed.append((ET.SubElement(group, "path", attributes), x, y, segment))
            for kind, fill in _decorations(segment, computed):
                group.append(_decoration(kind, fill, x, y, segment, metrics))
    if _painted_by_a_server(text, computed):
        for path, _, _, segment in placed:
            path.set("d", path.get("d") + _cell_corners(segment))
        _merge_outlines(group, placed)
    return group


def _cell_corners(segment: _Segment) -> str:
    """Two points that draw nothing at the corners of the run's glyph cells (its advance, from
    the font's ascent to its descent): SVG measures a text's bounding box on the cells, and so
    does a gradient or pattern in bounding-box units painting it."""
    metrics = _metrics(segment.set)
    top = round(-metrics.ascent * segment.size * PATH_UNITS)
    bottom = round(-metrics.descent * segment.size * PATH_UNITS)
    right = round(segment.set.widest * PATH_UNITS)
    return f"M0 {top}M{right} {bottom}"


def _painted_by_a_server(text: ET.Element, computed: dict[str, str]) -> bool:
    """Whether the text's fill or stroke is a gradient or pattern (url())."""
    stroke = _own(text, "stroke") or ""
    return computed.get("fill", "").startswith("url(") or stroke.startswith("url(")


def _merge_outlines(group: ET.Element, placed: list) -> None:
    """One path for all the runs of a text painted by a gradient or pattern: a paint server in
    bounding-box units spans the whole text, as in SVG, not each run. Runs that paint or stroke
    themselves, or are turned or stretched, keep their own paths."""
    if len(placed) < 2 or any(
        segment.rotate
        or segment.stretch != 1
        or any(_own(owner, name) for owner in segment.owners for name in ("fill", "stroke"))
        for _, _, _, segment in placed
    ):
        return
    data = []
    for path, x, y, _ in placed:
        offsets = (round(x * PATH_UNITS), round(y * PATH_UNITS))
        numbers = 0
        for token in _PATH_TOKEN.findall(path.get("d")):
            if token.isalpha():
                data.append(token)
            else:
                data.append(str(int(token) + offsets[numbers % 2]))
                numbers += 1
        group.remove(path)
    first = placed[0][0]
    first.set("d", " ".join(data))
    first.set("transform", f"scale({1 / PATH_UNITS})")
    group.insert(0, first)


_PATH_TOKEN = re.compile(r"[MLCZ]|-?\d+")


def _fit_text_lengths(
    text: ET.Element, chunks: list[list[_Segment]], document: LayoutDocument, width: float
) -> None:
    """textLength: the characters of an element (the <text> or a run) spread out (extra letter
    spacing, lengthAdjust="spacing") or stretched ("spacingAndGlyphs") to the length it says,
    what follows in the chunk moved along. An element whose characters span chunks is left."""
    for element in [text, *[e for e in text.iter() if e.tag in _CONTAINERS]]:
        lengths = _numbers(element.get("textLength"), 0.0, width)
        if not lengths or lengths[0] < 0:
            continue
        for chunk in chunks:
            mine = [s for s in chunk if element is text or element in s.owners]
            if not mine:
                continue
            if len(mine) != sum(
                1 for c in chunks for s in c if element is text or element in s.owners
            ):
                break
            natural = mine[-1].x + mine[-1].set.widest * mine[-1].stretch - mine[0].x
            if natural <= 0:
                break
            added = lengths[0] - natural
            if (element.get("lengthAdjust") or "spacing") == "spacingAndGlyphs":
                factor = lengths[0] / natural
                for segment in mine:
                    segment.x = mine[0].x + (segment.x - mine[0].x) * factor
                    segment.stretch *= factor
            else:
                count = sum(len(segment.text) for segment in mine)
                if count < 2:
                    break
                extra = added / (count - 1)
                moved = 0.0
                for segment in mine:
                    segment.x += moved
                    style = dataclasses.replace(
                        segment.style, letter_spacing=segment.style.letter_spacing + extra
                    )
                    segment.set = set_run(segment.text, style, document.fonts, segment.size)
                    moved += extra * len(segment.text)
            for segment in chunk[chunk.index(mine[-1]) + 1 :]:
                segment.x += added
            break


def _metrics(typeset: SetText) -> FontMetrics:
    """The metrics of the font the run was drawn in (its first glyphs')."""
    if not typeset.runs:
        return _FALLBACK_METRICS
    return font_metrics(typeset.runs[0].font, typeset.runs[0].face_index)


_FALLBACK_METRICS = FontMetrics(0.8, -0.2, 0.45, -1 / 9, 1 / 12, 0.225, 0.2, 0.4)


def _baseline_shift(
    text: ET.Element, segment: _Segment, computed: dict[str, str], metrics: FontMetrics
) -> float:
    """How far down the run's baseline moves, as resvg (after Chrome) has SVG's baselines:
    baseline-shift of its runs (sub, super, a length or % of the size), and the innermost run's
    alignment-baseline, else the dominant-baseline it inherits."""
    size = segment.size
    raised = 0.0
    for owner in segment.owners:
        value = (_own(owner, "baseline-shift") or "baseline").lower()
        if value == "sub":
            raised -= metrics.subscript_offset * size
        elif value == "super":
            raised += metrics.superscript_offset * size
        elif value != "baseline":
            match = _LENGTH.fullmatch(value)
            if match and match.group(2) == "%":
                raised += float(match.group(1)) * size / 100
            elif match and (match.group(2) or "") in _UNITS:
                raised += float(match.group(1)) * _UNITS[match.group(2) or ""]
    alignment = computed.get(_ALIGNMENT, "auto")  # the <text>'s own, "inherit" resolved
    for owner in segment.owners:
        own = _own(owner, "alignment-baseline") or "auto"
        alignment = alignment if own == "inherit" else own
    if alignment in ("auto", "baseline"):
        alignment = computed.get("dominant-baseline", "auto")
        for owner in segment.owners:
            own = _own(owner, "dominant-baseline")
            if own not in (None, "no-change", "inherit"):  # no-change: the parent's (SVG 1.1)
                alignment = own
    return -raised + _alignment_shift(alignment.lower(), metrics) * size


def _alignment_shift(alignment: str, metrics: FontMetrics) -> float:
    """In ems, down: where the named baseline puts the alphabetic one (Chrome's values)."""
    return {
        "before-edge": metrics.ascent,
        "text-before-edge": metrics.ascent,
        "text-top": metrics.ascent,
        "middle": metrics.x_height / 2,
        "central": metrics.ascent - (metrics.ascent - metrics.descent) / 2,
        "after-edge": metrics.descent,
        "text-after-edge": metrics.descent,
        "text-bottom": metrics.descent,
        "ideographic": metrics.descent,
        "hanging": metrics.ascent * 0.8,
        "mathematical": metrics.ascent / 2,
    }.get(alignment, 0.0)


def _decorations(segment: _Segment, computed: dict[str, str]) -> list[tuple[str, str]]:
    """The decorations drawn across a run, each in its declaring element's fill."""
    declared = [d for d in computed.get("text-decoration", "").split(";") if d]
    fill = computed.get("fill", "#000000")
    for owner in segment.owners:
        fill = _own(owner, "fill") or fill
        for kind in (_own(owner, "text-decoration") or "").lower().split():
            if kind in _DECORATIONS:
                declared.append(f"{kind}={fill}")
    return [tuple(d.split("=", 1)) for d in dict.fromkeys(declared)]  # type: ignore[misc]


def _decoration(
    kind: str, fill: str, x: float, y: float, segment: _Segment, metrics: FontMetrics
) -> ET.Element:
    """A decoration line across the run: centred under, through or over it, as thick as the
    font's underline."""
    size = segment.size
    down = {
        "underline": -metrics.underline_position,
        "overline": -metrics.ascent,
        "line-through": -metrics.line_through_position,
    }[kind] * size
    thickness = metrics.underline_thickness * size
    top = y + down - thickness / 2
    width = segment.set.widest * segment.stretch
    return ET.Element(
        "path",
        {
            "d": f"M{number_text(x)} {number_text(top)}h{number_text(width)}"
            f"v{number_text(thickness)}h{number_text(-width)}z",
            "fill": fill,
            "stroke": "none",
        },
    )
