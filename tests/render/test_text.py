from renderfarm_dagster.render.text import ELLIPSIS, fit_text, text_width


def test_short_text_keeps_its_largest_size():
    fitted = fit_text("Trail Runner", 800, 2, 64, 30, bold=True)
    assert fitted.lines == ("Trail Runner",)
    assert fitted.size == 64


def test_long_text_wraps_then_shrinks_and_every_line_fits():
    text = "Ein außergewöhnlich langer Produkttitel, der umbrochen werden muss"
    fitted = fit_text(text, 500, 2, 64, 20, bold=True)
    assert len(fitted.lines) <= 2
    assert fitted.size < 64
    assert all(text_width(line, fitted.size, bold=True) <= 500 for line in fitted.lines)
    assert " ".join(fitted.lines) == text


def test_text_too_long_for_the_smallest_size_is_cut_with_an_ellipsis():
    fitted = fit_text("word " * 200, 300, 2, 40, 20)
    assert len(fitted.lines) == 2
    assert fitted.lines[-1].endswith(ELLIPSIS)
    assert all(text_width(line, 20) <= 300 for line in fitted.lines)


def test_a_word_wider_than_the_line_is_broken():
    fitted = fit_text("x" * 300, 200, 3, 20, 20)
    assert all(text_width(line, 20) <= 200 for line in fitted.lines)
