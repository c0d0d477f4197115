"""Fonts text is set in: the bundled set (Debian's font packages, in the worker image) and brand
fonts uploaded to the catalog, each checked before it is used.

Text is only ever set in these files: the layout engine's fontconfig knows no other font on the
machine, so a render does not depend on what else happens to be installed.
"""

from __future__ import annotations

import functools
import hashlib
import io
import struct
from dataclasses import dataclass
from pathlib import Path

from renderfarm_dagster.problems import FileProblems

# Brand fonts above this are refused: a full CJK family is about 20 MB, a Latin one well under 1.
MAX_FONT_BYTES = 32 * 1024 * 1024
# Names a template may use for the default stack instead of a family.
GENERIC_FAMILIES = ("sans-serif",)
DEFAULT_FAMILY = "Noto Sans"

_DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
_NOTO = Path("/usr/share/fonts/truetype/noto")
_NOTO_CJK = Path("/usr/share/fonts/opentype/noto")
# family -> (regular file, bold file), from Debian's fonts-dejavu-core, fonts-noto-core and
# fonts-noto-cjk. DejaVu Sans stays for the templates that name it (the version 1 look).
BUNDLED_FILES: dict[str, tuple[Path, Path]] = {
    "DejaVu Sans": (_DEJAVU / "DejaVuSans.ttf", _DEJAVU / "DejaVuSans-Bold.ttf"),
    **{
        f"Noto Sans{script and ' ' + script}": (
            _NOTO / f"NotoSans{script}-Regular.ttf",
            _NOTO / f"NotoSans{script}-Bold.ttf",
        )
        for script in ("", "Arabic", "Hebrew", "Devanagari", "Thai", "Tamil")
    },
    # One collection per weight holds the CJK families, each with its region's character forms.
    **{
        f"Noto Sans CJK {region}": (
            _NOTO_CJK / "NotoSansCJK-Regular.ttc",
            _NOTO_CJK / "NotoSansCJK-Bold.ttc",
        )
        for region in ("JP", "KR", "SC", "TC", "HK")
    },
}
# After a layer's own families, characters they lack are looked for in this order. Noto Sans
# (Latin, Greek, Cyrillic) first; CJK last, as its Latin and punctuation would otherwise win.
FALLBACK_ORDER = (
    "Noto Sans",
    "Noto Sans Arabic",
    "Noto Sans Hebrew",
    "Noto Sans Devanagari",
    "Noto Sans Thai",
    "Noto Sans Tamil",
)


def fallback_order(language: str) -> tuple[str, ...]:
    """FALLBACK_ORDER, then the CJK family whose character forms the language writes: a Han
    character shared by Chinese, Japanese and Korean is drawn differently in each."""
    return (*FALLBACK_ORDER, cjk_family(language))


def cjk_family(language: str) -> str:
    """Noto Sans CJK SC for Simplified Chinese, TC or HK for Traditional, KR for Korean, and
    JP (the default) for Japanese and every other language."""
    subtags = language.lower().replace("_", "-").split("-")
    if subtags[0] == "ko":
        return "Noto Sans CJK KR"
    if subtags[0] in ("zh", "yue"):
        if "hk" in subtags or "mo" in subtags:
            return "Noto Sans CJK HK"
        if "hant" in subtags or "tw" in subtags or subtags[0] == "yue":
            return "Noto Sans CJK TC"
        return "Noto Sans CJK SC"
    return "Noto Sans CJK JP"


# The extensions of brand fonts: TrueType or CFF outlines in one sfnt file (no collections).
FONT_EXTENSIONS = (".ttf", ".otf")
_SFNT_TAGS = (b"\x00\x01\x00\x00", b"OTTO", b"true")


@dataclass(frozen=True)
class FontProblem:
    """What is wrong with a font file (its problems concern the file as a whole)."""

    message: str

    def __str__(self) -> str:
        return self.message

    def report(self) -> dict:
        return {"message": self.message}


class FontError(FileProblems):
    """A font file that cannot be used, with the reason (`source` names the file)."""

    def __init__(self, source: str, reason: str):
        super().__init__(source, [FontProblem(reason)])
        self.reason = reason


class MissingBundledFontError(RuntimeError):
    pass


@dataclass(frozen=True)
class FontFace:
    """One font file and the face it holds: what a template names it by and its style."""

    family: str
    bold: bool
    path: str
    sha256: str


def bundled_families() -> tuple[str, ...]:
    return tuple(BUNDLED_FILES)


@functools.cache
def bundled_faces() -> tuple[FontFace, ...]:
    """Every bundled font file; raises MissingBundledFontError naming the package to install."""
    digests: dict[Path, str] = {}
    faces = []
    for family, files in BUNDLED_FILES.items():
        for bold, path in zip((False, True), files, strict=True):
            if path not in digests:
                digests[path] = _file_sha256(path)
            faces.append(FontFace(family, bold, str(path), digests[path]))
    return tuple(faces)


def bundled_files() -> list[str]:
    """Each bundled file once (the CJK families share their collections)."""
    return list(dict.fromkeys(face.path for face in bundled_faces()))


def _file_sha256(path: Path) -> str:
    if not path.is_file():
        raise MissingBundledFontError(
            f"bundled font {path} is missing: install Debian's fonts-dejavu-core, "
            "fonts-noto-core and fonts-noto-cjk (`make render-packages`)"
        )
    # In chunks: a 20 MB CJK file read whole would also raise glibc's mmap threshold for the
    # rest of the process (render/process_memory.py does that on purpose).
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def inspect_font(data: bytes, source: str) -> FontFace:
    """An uploaded brand font, checked; raises FontError with the reason.

    A real font is one sfnt file (TrueType or OpenType) with the tables text layout reads,
    under MAX_FONT_BYTES, that FreeType itself opens. The family is the typographic family name
    (name ID 16) where the font has one, else the legacy family (ID 1).
    """
    # Imported here: only the checks of uploads need them, not every import of the templates.
    from fontTools.ttLib import TTFont, TTLibError
    from PIL import ImageFont

    if len(data) > MAX_FONT_BYTES:
        raise FontError(source, f"file is {len(data)} bytes, over the {MAX_FONT_BYTES} limit")
    if data[:4] == b"ttcf":
        raise FontError(source, "a font collection (.ttc): upload each font as a .ttf or .otf")
    if data[:4] in (b"wOFF", b"wOF2"):
        raise FontError(source, "a web font (WOFF): upload the .ttf or .otf it was made from")
    if data[:4] not in _SFNT_TAGS:
        raise FontError(source, "not a TrueType or OpenType font (no sfnt header)")
    try:
        font = TTFont(io.BytesIO(data), lazy=True)
        missing = [
            tag for tag in ("cmap", "head", "hhea", "hmtx", "maxp", "name") if tag not in font
        ]
        if "glyf" not in font and "CFF " not in font and "CFF2" not in font:
            missing.append("glyf or CFF")
        if missing:
            raise FontError(source, f"missing font tables: {', '.join(missing)}")
        names = font["name"]
        family = names.getDebugName(16) or names.getDebugName(1)
        if not family or not family.strip() or not family.isprintable() or len(family) > 100:
            raise FontError(
                source,
                "the font names no usable family (name table IDs 16 and 1: 1 to 100 "
                "printable characters)",
            )
        if font["cmap"].getBestCmap() is None:
            raise FontError(source, "the font maps no Unicode characters (no Unicode cmap)")
        weight = font["OS/2"].usWeightClass if "OS/2" in font else 400
    except FontError:
        raise
    except (
        TTLibError,
        AssertionError,
        KeyError,
        ValueError,
        TypeError,
        IndexError,
        EOFError,
        struct.error,  # a table shorter than its own header says (fontTools unpacks it)
    ) as error:
        raise FontError(source, f"the font's tables do not parse: {error}") from None
    # The engine that draws it must open it too (fontTools is more lenient with some tables).
    try:
        ImageFont.truetype(io.BytesIO(data), 12)
    except OSError as error:
        raise FontError(source, f"FreeType cannot open it: {error}") from None
    return FontFace(family.strip(), weight >= 600, "", hashlib.sha256(data).hexdigest())


@dataclass(frozen=True)
class FontMetrics:
    """What SVG's text layout reads of a font beyond its glyphs, in ems (y up, as fonts have
    it): baselines for dominant-baseline and alignment-baseline, shifts for sub and super,
    lines for text-decoration. Missing tables fall back as resvg and Firefox fall back."""

    ascent: float
    descent: float  # negative: below the baseline
    x_height: float
    underline_position: float  # negative: below the baseline
    underline_thickness: float
    line_through_position: float
    subscript_offset: float  # positive: how far below
    superscript_offset: float  # positive: how far above


@functools.lru_cache(maxsize=64)
def font_metrics(path: str, face_index: int = 0) -> FontMetrics:
    """The metrics of the font file Pango drew a run with (a bundled or checked brand font)."""
    from fontTools.ttLib import TTCollection, TTFont

    if path.endswith((".ttc", ".otc")):
        font = TTCollection(path, lazy=True).fonts[face_index]
    else:
        font = TTFont(path, lazy=True)
    em = font["head"].unitsPerEm
    ascent, descent = font["hhea"].ascent / em, font["hhea"].descent / em
    os2 = font.get("OS/2")
    x_height = getattr(os2, "sxHeight", 0) / em if os2 is not None else 0.0
    if x_height <= 0:
        x_height = (ascent - descent) * 0.45
    post = font.get("post")
    underline_position = post.underlinePosition / em if post is not None else -1 / 9
    underline_thickness = (
        post.underlineThickness / em if post and post.underlineThickness else 1 / 12
    )
    return FontMetrics(
        ascent=ascent,
        descent=descent,
        x_height=x_height,
        underline_position=underline_position,
        underline_thickness=underline_thickness,
        line_through_position=(os2.yStrikeoutPosition / em if os2 is not None else x_height / 2),
        subscript_offset=os2.ySubscriptYOffset / em if os2 is not None else 0.2,
        superscript_offset=os2.ySuperscriptYOffset / em if os2 is not None else 0.4,
    )
