"""`renderfarm preview --watch` (cli/preview_page.py): one warm process draws again what was
saved, and only that; its page shows every layout side by side, a template's problems instead of
a traceback, and reloads itself when something was drawn. No timing is asserted here: the time
from save to new image is what `make bench` reports."""

import os
import shutil
import threading
import time
import urllib.request
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from renderfarm_dagster.catalog.templates import bundled_names
from renderfarm_dagster.cli.preview_page import PreviewState, Watcher, _handler, page
from renderfarm_dagster.render import variant as variant_module
from tests.conftest import EXAMPLES

PACKAGE_TEMPLATES = Path(variant_module.__file__).resolve().parent.parent / "templates"


def saved(path: Path, text: str) -> None:
    """Write `text` to `path` with a modification time that differs from the last one, as an
    editor's save (some filesystems keep times to the second)."""
    before = path.stat().st_mtime if path.exists() else 0
    path.write_text(text)
    now = max(time.time(), before + 0.001)
    os.utime(path, (now, now))


@pytest.fixture
def designer(tmp_path, storage):
    """A designer's folder: the product-card set, edited, and a spec drawn from it."""
    folder = tmp_path / "work"
    folder.mkdir()
    assert "product-card" in bundled_names()
    for file in PACKAGE_TEMPLATES.glob("product-card*.svg"):
        shutil.copy(file, folder / file.name)
    shutil.copy(EXAMPLES / "nordlicht-thermobecher.json", folder / "thermos.json")
    watcher = Watcher([str(folder)], storage.objects(), tmp_path / "out", str(EXAMPLES / "assets"))
    return folder, watcher


def drawn_titles(watcher: Watcher) -> dict[str, list[str]]:
    _, drawn, _ = watcher.state.snapshot()
    return {item.title: list(item.images) for item in drawn}


def test_every_layout_of_a_set_and_the_spec_are_drawn_at_start(designer):
    _, watcher = designer
    titles = drawn_titles(watcher)
    assert titles["template product-card"] == [
        "product-card.png",
        "product-card.landscape.png",
        "product-card.portrait.png",
        "product-card.story.png",
    ]
    spec_images = titles["spec nordlicht-thermobecher"]
    assert spec_images[-1] == "nordlicht-thermobecher/contact-sheet.jpg"
    assert (watcher.out / "product-card.story.png").exists()


def test_a_saved_layout_is_drawn_again_alone(designer, monkeypatch):
    folder, watcher = designer
    assert watcher.poll() is None  # nothing saved since
    drawn_layouts = []
    real = variant_module.render_variant

    def recording(job):
        drawn_layouts.append(tuple(job.template_layouts))
        return real(job)

    monkeypatch.setattr(variant_module, "render_variant", recording)
    monkeypatch.setattr("renderfarm_dagster.catalog.preview.render_variant", recording)
    monkeypatch.setattr("renderfarm_dagster.catalog.rendering.render_variant", recording)
    story = folder / "product-card.story.svg"
    saved(story, story.read_text().replace("Product title", "Product name"))
    version = watcher.state.version
    first, last = watcher.poll()
    assert 0 <= first <= last
    # The story layout's bare preview, and nothing of the spec: its outputs are square, drawn
    # from the main layout, whose fingerprints did not change.
    assert drawn_layouts == [("main",)]
    assert watcher.state.version > version
    assert "product-card.story.svg drawn" in page(watcher.state)


def test_a_template_with_a_problem_shows_it_on_the_page_not_a_traceback(designer):
    folder, watcher = designer
    main = folder / "product-card.svg"
    saved(main, main.read_text().replace('rf:layer="color"', 'rf:layer="colour"', 1))
    watcher.poll()
    html = page(watcher.state)
    assert 'rf:layer="colour" is not one of color, image, text' in html.replace("&quot;", '"')
    assert "Traceback" not in html
    # Fixed: its previews are back.
    saved(main, main.read_text().replace('rf:layer="colour"', 'rf:layer="color"', 1))
    watcher.poll()
    assert "product-card.png" in drawn_titles(watcher)["template product-card"]


def test_what_a_file_says_is_escaped_on_the_page():
    from renderfarm_dagster.cli.preview import Drawn

    state = PreviewState()
    hostile = Path("<script>alert(1)</script>.svg")
    state.update([hostile], Drawn(hostile, "<img src=x onerror=alert(1)>", problems="<b>x</b>"))
    html = page(state)
    assert "<script>alert" not in html and "<img src=x" not in html and "<b>x" not in html


def test_the_page_its_version_and_its_images_are_served(designer):
    _, watcher = designer
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(watcher.state))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with urllib.request.urlopen(f"{base}/") as response:
            assert "product-card.story.png" in response.read().decode()
        with urllib.request.urlopen(f"{base}/version") as response:
            assert response.read().decode() == str(watcher.state.version)
        with urllib.request.urlopen(f"{base}/image/0/product-card.story.png") as response:
            assert response.headers["Content-Type"] == "image/png"
            assert response.read().startswith(b"\x89PNG")
        with pytest.raises(urllib.error.HTTPError, match="404"):
            urllib.request.urlopen(f"{base}/image/0/../../etc/passwd")
    finally:
        server.shutdown()
