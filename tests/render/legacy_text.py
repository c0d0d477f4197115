"""How the Python templates measured and fitted text: cairo's toy API, letter by letter, with
DejaVu (no kerning, no shaping). Kept only for the version 1 reference (legacy_templates.py)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import cairocffi as cairo

# Named explicitly so every machine with DejaVu installed (Debian's fonts-dejavu-core, which
# the worker image installs) draws the same glyphs; "sans-serif" would be resolved per machine.
FONT_FAMILY = "DejaVu Sans"
ELLIPSIS = "…"
_REFERENCE_SIZE = 100.0


@functools.cache
def _context(bold: bool) -> cairo.Context:
    context = cairo.Context(cairo.ImageSurface(cairo.FORMAT_ARGB32, 1, 1))
    options = cairo.FontOptions()
    # Unhinted metrics scale linearly with font size, so one measurement serves every size.
    options.set_hint_metrics(cairo.HINT_METRICS_OFF)
    options.set_hint_style(cairo.HINT_STYLE_NONE)
    context.set_font_options(options)
    weight = cairo.FONT_WEIGHT_BOLD if bold else cairo.FONT_WEIGHT_NORMAL
    context.select_font_face(FONT_FAMILY, cairo.FONT_SLANT_NORMAL, weight)
    context.set_font_size(_REFERENCE_SIZE)
    return context


@functools.lru_cache(maxsize=4096)
def _advance(char: str, bold: bool) -> float:
    return _context(bold).text_extents(char)[4] / _REFERENCE_SIZE


def text_width(text: str, size: float, bold: bool = False) -> float:
    """Width of `text` at `size`, summed letter by letter as cairosvg lays it out."""
    return sum(_advance(char, bold) for char in text) * size


@dataclass(frozen=True)
class FittedText:
    lines: tuple[str, ...]
    size: float


def fit_text(
    text: str,
    max_width: float,
    max_lines: int,
    max_size: float,
    min_size: float,
    bold: bool = False,
) -> FittedText:
    """Wrap and shrink `text` into at most `max_lines` lines of `max_width`.

    The largest size from `max_size` down to `min_size` at which the text wraps into
    `max_lines` wins; if even `min_size` is too large, the text is cut with an ellipsis.
    """
    text = " ".join(text.split())
    size = max_size
    while True:
        lines = _wrap(text, max_width, size, bold)
        if len(lines) <= max_lines:
            return FittedText(tuple(lines), size)
        if size <= min_size:
            break
        # Steps of 8%: few enough tries to stay cheap, fine enough not to shrink needlessly.
        size = max(min_size, size - max(1.0, size * 0.08))
    lines = lines[:max_lines]
    lines[-1] = _ellipsize(lines[-1], max_width, min_size, bold)
    return FittedText(tuple(lines), min_size)


def _wrap(text: str, max_width: float, size: float, bold: bool) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if text_width(candidate, size, bold) <= max_width:
            current = candidate
            continue
        if current:
            lines.append(current)
        # A word wider than the line (a long URL-like name) is broken between characters.
        while text_width(word, size, bold) > max_width and len(word) > 1:
            cut = _longest_prefix(word, max_width, size, bold)
            lines.append(word[:cut])
            word = word[cut:]
        current = word
    if current:
        lines.append(current)
    return lines or [""]


def _longest_prefix(word: str, max_width: float, size: float, bold: bool) -> int:
    width = 0.0
    for index, char in enumerate(word):
        width += _advance(char, bold) * size
        if width > max_width:
            return max(1, index)
    return len(word)


def _ellipsize(line: str, max_width: float, size: float, bold: bool) -> str:
    """Mark `line` as cut short, trimming it until it fits with the ellipsis."""
    line = line.rstrip()
    while line and text_width(line + ELLIPSIS, size, bold) > max_width:
        line = line[:-1].rstrip()
    return line + ELLIPSIS
