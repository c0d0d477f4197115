"""The version 1 templates as they were drawn in Python before templates became SVG files.

Kept only as the reference tests/render/test_v1_compatibility.py compares the bundled
template files against: version 1 specs must render within a small visual tolerance of this.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from fractions import Fraction
from xml.sax.saxutils import escape

from renderfarm_dagster.spec import ProductSpecV1 as ProductSpec
from tests.render.legacy_text import FONT_FAMILY, fit_text, text_width

INK = "#1d1d1f"
MUTED_INK = "#5a5a60"
PAPER = "#ffffff"
BACKDROP = "#f2f1ee"


@dataclass(frozen=True)
class VariantContent:
    """What a template draws for one variant, with the variant's overrides applied."""

    title: str
    subtitle: str | None
    label: str
    price: str | None
    badge: str | None
    primary: str
    accent: str

    @classmethod
    def from_spec(cls, spec: ProductSpec, variant_id: str) -> VariantContent:
        variant = spec.variant(variant_id)
        price = variant.price or spec.price
        return cls(
            title=variant.title or spec.title,
            subtitle=spec.subtitle,
            label=variant.label,
            price=price.display() if price else None,
            badge=variant.badge or spec.badge,
            primary=variant.colors.primary,
            accent=variant.colors.accent,
        )

    def as_dict(self) -> dict[str, str | None]:
        return asdict(self)


@dataclass(frozen=True)
class Template:
    name: str
    # Bumped whenever the drawing changes, so checkpoints of older renders stop matching.
    version: int
    design_width: int
    design_height: int
    draw: Callable[[VariantContent], list[str]]

    def svg(self, content: VariantContent, aspect: Fraction) -> bytes:
        """The SVG for `content`, its viewBox widened or heightened to `aspect` (width/height).

        The design box stays centred and undistorted; the backdrop fills the extra space, so an
        output of another shape than the template's gets margins rather than a stretched card.
        """
        view_width, view_height = float(self.design_width), float(self.design_height)
        if aspect > Fraction(self.design_width, self.design_height):
            view_width = self.design_height * float(aspect)
        else:
            view_height = self.design_width / float(aspect)
        x = (self.design_width - view_width) / 2
        y = (self.design_height - view_height) / 2
        parts = [
            '<svg xmlns="http://www.w3.org/2000/svg" '
            f'width="{_n(view_width)}" height="{_n(view_height)}" '
            f'viewBox="{_n(x)} {_n(y)} {_n(view_width)} {_n(view_height)}">',
            f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(view_width)}" '
            f'height="{_n(view_height)}" fill="{BACKDROP}"/>',
            *self.draw(content),
            "</svg>",
        ]
        return "\n".join(parts).encode("utf-8")


def _n(value: float) -> str:
    """A number as SVG text: fixed precision keeps the document byte-identical across runs."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _escape(text: str) -> str:
    return escape(text, {'"': "&quot;", "'": "&apos;"})


def _text(
    text: str,
    x: float,
    y: float,
    size: float,
    fill: str,
    bold: bool = False,
    anchor: str = "start",
) -> str:
    weight = ' font-weight="bold"' if bold else ""
    end = f' text-anchor="{anchor}"' if anchor != "start" else ""
    return (
        f'<text x="{_n(x)}" y="{_n(y)}" font-family="{FONT_FAMILY}" font-size="{_n(size)}"'
        f'{weight}{end} fill="{fill}">{_escape(text)}</text>'
    )


def _text_block(
    text: str,
    x: float,
    top: float,
    max_width: float,
    max_lines: int,
    max_size: float,
    min_size: float,
    fill: str,
    bold: bool = False,
) -> tuple[list[str], float]:
    """Lines of fitted text starting at `top`; returns the elements and the y below them."""
    fitted = fit_text(text, max_width, max_lines, max_size, min_size, bold)
    elements = []
    baseline = top + fitted.size
    for line in fitted.lines:
        elements.append(_text(line, x, baseline, fitted.size, fill, bold))
        baseline += fitted.size * 1.2
    return elements, baseline - fitted.size * 0.2


def _ink_on(background: str) -> str:
    """Dark or white text, whichever reads better on `background` (a #rrggbb colour)."""
    red, green, blue = (int(background[i : i + 2], 16) / 255 for i in (1, 3, 5))
    # Rec. 709 luma weights: a good enough proxy for perceived brightness.
    return INK if 0.2126 * red + 0.7152 * green + 0.0722 * blue > 0.6 else PAPER


def _badge(text: str, x: float, y: float, fill: str, max_width: float) -> list[str]:
    fitted = fit_text(text, max_width - 48, 1, 30, 20, bold=True)
    label = fitted.lines[0]
    width = text_width(label, fitted.size, bold=True) + 48
    return [
        f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(width)}" height="60" rx="30" fill="{fill}"/>',
        _text(label, x + 24, y + 30 + fitted.size * 0.36, fitted.size, _ink_on(fill), bold=True),
    ]


def _single_line(
    text: str,
    x: float,
    baseline: float,
    max_width: float,
    max_size: float,
    min_size: float,
    fill: str,
    bold: bool = False,
    anchor: str = "start",
) -> str:
    fitted = fit_text(text, max_width, 1, max_size, min_size, bold)
    return _text(fitted.lines[0], x, baseline, fitted.size, fill, bold, anchor)


def _draw_product_card(content: VariantContent) -> list[str]:
    """A square card: product shape on top, title and subtitle, label and price at the foot."""
    elements = [
        f'<rect x="40" y="40" width="920" height="920" rx="36" fill="{PAPER}"/>',
        f'<circle cx="500" cy="330" r="210" fill="{content.primary}"/>',
        f'<circle cx="640" cy="210" r="72" fill="{content.accent}"/>',
        f'<rect x="330" y="470" width="340" height="36" rx="18" fill="{content.accent}"/>',
    ]
    if content.badge:
        elements += _badge(content.badge, 80, 80, content.accent, 420)
    title, below = _text_block(content.title, 80, 590, 840, 2, 64, 34, INK, bold=True)
    elements += title
    if content.subtitle:
        # Two title lines leave room for one subtitle line above the label row at y=866.
        subtitle_lines = 1 if below > 740 else 2
        subtitle, _ = _text_block(
            content.subtitle, 80, below + 18, 840, subtitle_lines, 34, 22, MUTED_INK
        )
        elements += subtitle
    elements += [
        f'<rect x="80" y="866" width="40" height="40" rx="8" fill="{content.primary}"/>',
        f'<rect x="128" y="866" width="40" height="40" rx="8" fill="{content.accent}"/>',
        _single_line(content.label, 186, 898, 400 if content.price else 730, 30, 18, INK),
    ]
    if content.price:
        elements.append(_single_line(content.price, 920, 902, 300, 52, 26, INK, True, "end"))
    return elements


def _draw_banner(content: VariantContent) -> list[str]:
    """A wide banner: a colour panel with the product shape left, the copy right."""
    elements = [
        f'<rect x="0" y="0" width="600" height="600" fill="{content.primary}"/>',
        f'<circle cx="300" cy="300" r="170" fill="{content.accent}"/>',
        f'<circle cx="300" cy="300" r="110" fill="{PAPER}" fill-opacity="0.25"/>',
        f'<rect x="600" y="0" width="1000" height="600" fill="{PAPER}"/>',
    ]
    top = 60.0
    if content.badge:
        elements += _badge(content.badge, 660, 56, content.accent, 500)
        top = 150.0
    title, below = _text_block(content.title, 660, top, 880, 2, 72, 36, INK, bold=True)
    elements += title
    if content.subtitle:
        subtitle, _ = _text_block(content.subtitle, 660, below + 16, 880, 2, 36, 22, MUTED_INK)
        elements += subtitle
    elements.append(
        _single_line(content.label, 660, 540, 520 if content.price else 880, 32, 18, INK)
    )
    if content.price:
        elements.append(_single_line(content.price, 1540, 544, 340, 60, 28, INK, True, "end"))
    return elements


TEMPLATES: dict[str, Template] = {
    "product-card": Template("product-card", 1, 1000, 1000, _draw_product_card),
    "banner": Template("banner", 1, 1600, 600, _draw_banner),
}
