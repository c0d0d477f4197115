"""Text layout (render/typeset.py) against an independent oracle: uharfbuzz, its own HarfBuzz
build, shapes each string with the same font file, and the glyphs Pango drew must be the same
glyphs at the same positions. Then line breaking, fitting, direction and fallback.
"""

import itertools
import re
import unicodedata

import pytest
import uharfbuzz as hb

from renderfarm_dagster.render.fonts import BUNDLED_FILES, cjk_family, fallback_order
from renderfarm_dagster.render.pango import PANGO_GLYPH_EMPTY
from renderfarm_dagster.render.typeset import SetText, TextStyle, font_set, set_text

SIZE = 40.0
# Pango keeps positions in 1/1024 units; a glyph's origin may differ from HarfBuzz's by the
# rounding of the advances before it.
TOLERANCE = 0.01

# One string per script the bundled fonts cover, each in the family that covers it, with what
# the string exercises.
SCRIPTS = {
    # Kerning pairs (AV, Wa, Tä) and the fi/ffi ligatures where the font has them.
    "latin": ("Noto Sans", "en", "AVAWAY Wasser Täve office affine"),
    "greek": ("Noto Sans", "el", "Ελληνικά: κρατά ζεστό"),
    "cyrillic": ("Noto Sans", "ru", "Русский: держит тепло"),
    # Joining forms (initial, medial, final) and the lam-alef ligature.
    "arabic": ("Noto Sans Arabic", "ar", "مرحبا بالعالم لا"),
    # Points (nikkud) positioned on their letters.
    "hebrew": ("Noto Sans Hebrew", "he", "שָׁלוֹם עוֹלָם"),
    # Conjuncts (क्ष) and the reordered short i (ि).
    "devanagari": ("Noto Sans Devanagari", "hi", "क्षत्रिय हिन्दी"),
    # Above and below vowels stacked in clusters.
    "thai": ("Noto Sans Thai", "th", "ภาษาไทยง่ายนิดเดียว"),
    # Split vowels and the virama (puḷḷi).
    "tamil": ("Noto Sans Tamil", "ta", "தமிழ் நாடு கொண்டு"),
    "japanese": ("Noto Sans CJK JP", "ja", "日本語のテキスト、カタカナ。"),
}


def oracle(run, text: str, language: str, size: float):
    """HarfBuzz's glyphs and origins for the characters of `run`, in visual order."""
    face = hb.Face(hb.Blob.from_file_path(run.font), run.face_index)
    font = hb.Font(face)
    buffer = hb.Buffer()
    start, end = run.text_range
    buffer.add_str(text[start:end])
    buffer.guess_segment_properties()
    buffer.direction = "rtl" if run.rtl else "ltr"
    buffer.language = language
    hb.shape(font, buffer)
    origins, pen = [], 0
    for position in buffer.glyph_positions:
        origins.append((pen + position.x_offset) * size / face.upem)
        pen += position.x_advance
    glyphs = [info.codepoint for info in buffer.glyph_infos]
    return glyphs, origins


def one_line(text: str, family: str, language: str, **style) -> SetText:
    return set_text(
        text, TextStyle((family,), language=language, **style), font_set(), 10_000, 1, SIZE, SIZE
    )


def assert_matches_oracle(typeset: SetText, language: str):
    assert typeset.runs
    for run in typeset.runs:
        glyphs, origins = oracle(run, typeset.text, language, typeset.size)
        # Pango draws nothing for a default-ignorable character (zero width space, joiners);
        # HarfBuzz gives it a zero-advance space glyph.
        drawn_glyphs = [
            glyphs[i] if glyph == PANGO_GLYPH_EMPTY else glyph for i, glyph in enumerate(run.glyphs)
        ]
        assert drawn_glyphs == glyphs, (run.text_range, run.font)
        drawn = [x - run.x[0] for x in run.x]
        assert drawn == pytest.approx(origins, abs=TOLERANCE), run.text_range


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_the_glyphs_drawn_are_harfbuzz_shaping_of_the_same_string_and_font(script):
    family, language, text = SCRIPTS[script]
    typeset = one_line(text, family, language)
    assert typeset.uncovered == ""
    assert {run.font for run in typeset.runs} <= {str(path) for path in BUNDLED_FILES[family]}, (
        "fell back to another font"
    )
    assert_matches_oracle(typeset, language)


def test_shaping_changes_the_glyphs_where_the_script_needs_it():
    arabic = one_line("ببب", "Noto Sans Arabic", "ar")
    face = hb.Face(hb.Blob.from_file_path(arabic.runs[0].font))
    isolated = hb.Font(face).get_nominal_glyph(ord("ب"))
    # Initial, medial and final forms: three different glyphs, none the isolated one.
    assert len(set(arabic.runs[0].glyphs)) == 3
    assert isolated not in arabic.runs[0].glyphs
    latin = one_line("AV", "Noto Sans", "en")
    unkerned = hb.Font(hb.Face(hb.Blob.from_file_path(latin.runs[0].font)))
    advance = unkerned.get_glyph_h_advance(unkerned.get_nominal_glyph(ord("A")))
    # Kerned: V starts before A's full advance.
    assert latin.runs[0].x[1] - latin.runs[0].x[0] < advance * SIZE / unkerned.face.upem


def test_right_to_left_runs_are_in_visual_order_with_latin_and_digits_between():
    text = "سعر المنتج ABC 123 للبيع"
    typeset = one_line(text, "Noto Sans Arabic", "ar")
    assert typeset.rtl
    assert_matches_oracle(typeset, "ar")
    # Visual order, left to right (UAX #9): the last Arabic word, the space before it, then
    # "ABC 123" read left to right (W7: digits after Latin are left to right too), then the
    # first words. The right-to-left runs are in reverse logical order.
    runs = sorted(typeset.runs, key=lambda run: run.x[0])
    assert [text[slice(*run.text_range)] for run in runs] == [
        "للبيع", " ", "ABC", " 123", "سعر المنتج ",
    ]  # fmt: skip
    assert [run.rtl for run in runs] == [True, True, False, False, True]
    for run in typeset.runs:
        clusters = [c for c in run.clusters if c >= 0]
        # Within a right-to-left run, characters go right to left.
        assert clusters == sorted(clusters, reverse=run.rtl)


def test_a_bidi_override_is_obeyed_and_still_drawn():
    typeset = one_line("invoice\u202egpj.exe\u202c", "Noto Sans", "en")
    assert not typeset.rtl
    overridden = [run for run in typeset.runs if run.rtl]
    assert overridden, "U+202E makes what follows right to left"
    assert typeset.path


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Z\u0351\u0300\u0301\u0302\u0303" * 4, "en"),  # stacked combining marks
        ("a\u200bb\u200dc\ufeffd\u2060e", "en"),  # zero-width characters
    ],
)
def test_hostile_text_still_sets_and_draws(text, language):
    typeset = one_line(text, "Noto Sans", language)
    assert typeset.path and typeset.uncovered == ""
    assert_matches_oracle(typeset, language)


def lines_of(typeset: SetText) -> list[str]:
    starts = [*typeset.line_starts, len(typeset.text)]
    return [typeset.text[a:b] for a, b in itertools.pairwise(starts)]


def test_japanese_breaks_between_characters_without_spaces():
    text = "日本語のテキストは単語の間に空白を置かずに書きます"
    typeset = set_text(
        text, TextStyle(("Noto Sans CJK JP",), language="ja"), font_set(), 300, 4, 30, 30
    )
    assert typeset.lines > 1
    assert "".join(lines_of(typeset)) == text
    # Line-start rules (kinsoku): no line begins with a small kana or closing punctuation.
    assert not any(line[0] in "、。ぁぃぅぇぉっゃゅょ」" for line in lines_of(typeset))


def test_thai_breaks_at_word_boundaries_found_by_dictionary():
    # ภาษา | ไทย | ง่าย | นิด | เดียว: no spaces, yet lines break only between these words.
    text = "ภาษาไทยง่ายนิดเดียว"
    typeset = set_text(
        text, TextStyle(("Noto Sans Thai",), language="th"), font_set(), 120, 5, 30, 30
    )
    assert typeset.lines > 1
    assert set(typeset.line_starts) <= {0, 4, 7, 11, 14}


def test_latin_wraps_at_spaces_and_breaks_a_word_longer_than_the_line():
    typeset = set_text(
        "Trail Runner Supercalifragilisticexpialidocious", TextStyle(("Noto Sans",)), font_set(),
        200, 6, 30, 30,
    )  # fmt: skip
    lines = lines_of(typeset)
    assert lines[0] == "Trail Runner "
    assert len(lines) > 3 and all(line for line in lines)


def test_text_shrinks_before_it_is_cut():
    text = "A product title that needs two lines at the largest size"
    typeset = set_text(text, TextStyle(("Noto Sans",)), font_set(), 600, 1, 64, 20)
    assert 20 < typeset.size < 64
    assert typeset.lines == 1 and not typeset.ellipsized


def ellipsis_glyphs(run) -> set[int]:
    """U+2026, or the full stop Pango uses three of when the font has no ellipsis."""
    font = hb.Font(hb.Face(hb.Blob.from_file_path(run.font), run.face_index))
    return {font.get_nominal_glyph(ord(c)) for c in "…."} - {None}


def test_an_ellipsis_ends_left_to_right_text_on_the_right():
    typeset = set_text("word " * 80, TextStyle(("Noto Sans",)), font_set(), 300, 2, 30, 20)
    assert typeset.ellipsized and typeset.lines == 2 and typeset.size == 20
    last = max(typeset.runs, key=lambda run: (run.y[-1], run.x[-1]))
    assert last.glyphs[-1] in ellipsis_glyphs(last)


def test_an_ellipsis_ends_right_to_left_text_on_the_left():
    typeset = set_text("كلمة " * 80, TextStyle(("Noto Sans Arabic",), language="ar"), font_set(),
                       300, 1, 30, 20)  # fmt: skip
    assert typeset.ellipsized and typeset.rtl
    leftmost = min(typeset.runs, key=lambda run: run.x[0])
    assert leftmost.glyphs[0] in ellipsis_glyphs(leftmost)


def test_alignment_follows_the_paragraph_direction_unless_the_template_fixes_it():
    fonts = font_set()
    arabic = "مرحبا"
    right = set_text(arabic, TextStyle(("Noto Sans Arabic",), language="ar"), fonts, 500, 1, 30, 30)
    # Start of a right-to-left paragraph: the right edge of the box.
    assert right.left + right.widest == pytest.approx(500, abs=0.5)
    fixed = set_text(
        arabic, TextStyle(("Noto Sans Arabic",), language="ar", direction="ltr"), fonts,
        500, 1, 30, 30,
    )  # fmt: skip
    assert fixed.left == 0 and not fixed.rtl
    end = set_text("Price", TextStyle(("Noto Sans",), align="end"), fonts, 500, 1, 30, 30)
    assert end.left + end.widest == pytest.approx(500, abs=0.5)


def test_characters_the_template_font_lacks_fall_back_in_the_fixed_order():
    typeset = one_line("Title Заголовок עברית 日本", "DejaVu Sans", "en")
    fonts = [run.font.rsplit("/", 1)[-1] for run in typeset.runs]
    # DejaVu has Latin, Cyrillic and Hebrew; only the kanji fall back (to Noto Sans CJK JP).
    assert fonts.count("NotoSansCJK-Regular.ttc") == 1
    assert set(fonts) == {"DejaVuSans.ttf", "NotoSansCJK-Regular.ttc"}
    assert fallback_order("en")[-1] == "Noto Sans CJK JP"


def test_characters_no_font_has_are_reported_not_silently_boxed():
    typeset = one_line("Sale 🙂 \U0001f9e5 now \ue000", "Noto Sans", "en")
    assert typeset.uncovered == "🙂\U0001f9e5\ue000"
    assert all(unicodedata.category(c) in ("So", "Co") for c in typeset.uncovered)


def test_the_same_text_lays_out_identically_every_time():
    # set_text is cached; its uncached body must give equal results on its own.
    uncached = set_text.__wrapped__
    style = TextStyle(("Noto Sans",), language="de")
    first = uncached("سعر 89,00 € 日本", style, font_set(), 300, 2, 40, 20)
    again = uncached("سعر 89,00 € 日本", style, font_set(), 300, 2, 40, 20)
    assert first is not again and first == again
    assert set_text("سعر 89,00 € 日本", style, font_set(), 300, 2, 40, 20) == first


@pytest.mark.parametrize(
    ("language", "family"),
    [
        ("ja-JP", "Noto Sans CJK JP"),
        ("de", "Noto Sans CJK JP"),
        ("zh-CN", "Noto Sans CJK SC"),
        ("zh-Hans-SG", "Noto Sans CJK SC"),
        ("zh-TW", "Noto Sans CJK TC"),
        ("zh-Hant", "Noto Sans CJK TC"),
        ("zh-HK", "Noto Sans CJK HK"),
        ("ko-KR", "Noto Sans CJK KR"),
    ],
)
def test_han_characters_take_the_forms_of_the_variants_language(language, family):
    assert cjk_family(language) == family
    # 直 and 骨 are drawn differently in Japanese, Simplified and Traditional Chinese and
    # Korean: the fallback is the language's face of the collection, shaped as HarfBuzz does.
    typeset = one_line("直骨", "Noto Sans", language)
    (run,) = typeset.runs
    # The collection's faces, in order: JP, KR, SC, TC, HK.
    assert run.face_index == ["JP", "KR", "SC", "TC", "HK"].index(family.rsplit(" ", 1)[-1])
    assert_matches_oracle(typeset, language)
    if family.endswith(("SC", "TC")):
        # Simplified and Traditional Chinese draw 骨 in forms of their own.
        assert run.glyphs[1] != one_line("直骨", "Noto Sans", "ja").runs[0].glyphs[1]


def test_a_size_beyond_freetypes_largest_glyph_is_set_scaled_exactly():
    """FreeType refuses glyphs of 2^16 pixels and more (a size over 655 in PATH_UNITS): a
    layer's font-size may be 1000. Such text is drawn smaller and its outline scaled back."""
    style = TextStyle(("DejaVu Sans",))
    large = set_text("H", style, font_set(), 5000.0, 1, 1000.0, 1000.0)
    small = set_text("H", style, font_set(), 5000.0, 1, 100.0, 100.0)
    large_numbers = [int(n) for n in re.findall(r"-?\d+", large.path)]
    small_numbers = [int(n) for n in re.findall(r"-?\d+", small.path)]
    assert len(large_numbers) == len(small_numbers)
    assert all(abs(a - 10 * b) <= 20 for a, b in zip(large_numbers, small_numbers, strict=True))
