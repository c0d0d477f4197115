"""`make fidelity`: how faithfully templates are drawn, measured on linebender/resvg's test suite.

Each test of the suite is an SVG beside the PNG its authors expect. For the categories templates
use, this counts the tests the project's validation accepts as a template, and of those, the
ones drawn within tolerance of the reference at the reference's size (at most 1% of pixels off
by more than 32/255 in any channel, both over white) by three engines side by side:

- the project: the template parsed and validated, laid out with its defaults, rasterised as an
  output is (render/template.py, render/layout.py, render/raster.py);
- plain cairosvg, given the original file (`cairosvg.svg2png`);
- librsvg, through libvips (`pyvips`, already the project's; svgload): the engine of GNOME and
  of Debian's `rsvg-convert`;
- resvg, through its Python binding (resvg-py, a dev dependency).

Then the design tool exports of tests/render/design_exports/ (real files of Figma, Sketch,
Inkscape and an icon set), each turned into a template as a catalog team would (corpus.json) and
drawn with its defaults, against resvg and librsvg drawing the unchanged file: the share of
pixels off by more than 32/255 from every reference pixel of their 3x3 neighbourhood (so that
anti-aliasing one pixel apart does not count), per tool; within tolerance at 1% or less against
either reference.

Then the speed of each engine on the bench catalog's templates (the bundled product card and
banner, laid out with their defaults, drawn at their hero sizes; the same glyph outlines for
all), and the cost of a drop shadow: the product card with Figma's drop shadow on its card
against the same card without.

The suite is not in this repository: `make fidelity RESVG_TESTS=<resvg>/crates/resvg/tests/tests`
(a clone of github.com/linebender/resvg). Prints a table per category with each engine's count
and its time per test, then the catalog's timings; writes bench/fidelity_results.json. A report,
not a gate: it exits 0.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import time
from collections import Counter
from fractions import Fraction
from pathlib import Path

import cairosvg
import pyvips
import resvg_py
from PIL import Image, ImageChops, ImageFilter

from renderfarm_dagster.render.errors import RenderInputError, TemplateError
from renderfarm_dagster.render.layout import layout
from renderfarm_dagster.render.raster import DRAWING_ERRORS, rasterize
from renderfarm_dagster.render.svg_document import RF_NS
from renderfarm_dagster.render.template import parse_template

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "fidelity_results.json"
CATEGORIES = ("structure", "shapes", "painting", "paint-servers", "masking", "filters", "text")
ENGINES = ("project", "cairosvg", "librsvg", "resvg")
# A test passes with at most this share of its pixels off by more than this much.
MAX_OFF_SHARE = 0.01
MAX_CHANNEL_OFF = 32


def over_white(png: bytes, size: tuple[int, int]) -> Image.Image:
    image = Image.open(io.BytesIO(png)).convert("RGBA")
    if image.size != size:
        image = image.resize(size, Image.Resampling.LANCZOS)
    white = Image.new("RGBA", size, (255, 255, 255, 255))
    return Image.alpha_composite(white, image).convert("RGB")


def within_tolerance(drawn: Image.Image, reference: Image.Image) -> bool:
    red, green, blue = ImageChops.difference(drawn, reference).split()
    worst = ImageChops.lighter(ImageChops.lighter(red, green), blue)
    off = worst.point(lambda value: 255 if value > MAX_CHANNEL_OFF else 0).histogram()[255]
    return off <= MAX_OFF_SHARE * reference.width * reference.height


def drawn_by_project(data: bytes, size: tuple[int, int]) -> Image.Image:
    template = parse_template(data, "test", "test", brand_families=None)
    laid_out = layout(template, {}, Fraction(*size))
    return rasterize(
        laid_out.svg, *size, dict(template.embedded_images), laid_out.outlines
    ).convert("RGB")


def drawn_by_cairosvg(path: Path, size: tuple[int, int]) -> Image.Image:
    png = cairosvg.svg2png(url=str(path), output_width=size[0], output_height=size[1])
    return over_white(png, size)


def drawn_by_librsvg(path: Path, size: tuple[int, int]) -> Image.Image:
    return over_white(librsvg_png(path.read_bytes(), size), size)


def librsvg_png(svg: bytes, size: tuple[int, int]) -> bytes:
    # thumbnail renders the vector at the scale that fits `size` (not a resampled raster).
    image = pyvips.Image.thumbnail_buffer(svg, size[0], height=size[1], size="force")
    return image.write_to_buffer(".png")


def drawn_by_resvg(path: Path, size: tuple[int, int]) -> Image.Image:
    png = resvg_py.svg_to_bytes(svg_path=str(path), width=size[0], height=size[1])
    return over_white(bytes(png), size)


def measure(suite: Path, categories: tuple[str, ...], label: str = "") -> dict:
    counts: dict[str, Counter] = {category: Counter() for category in categories}
    seconds: Counter = Counter()
    for category in categories:
        for path in sorted((suite / category).rglob("*.svg")):
            reference_path = path.with_suffix(".png")
            if not reference_path.exists():
                continue
            tally = counts[category]
            tally["tests"] += 1
            reference_png = reference_path.read_bytes()
            size = Image.open(io.BytesIO(reference_png)).size
            reference = over_white(reference_png, size)
            data = path.read_bytes()
            try:
                parse_template(data, "test", "test", brand_families=None)
            except TemplateError:
                continue
            tally["accepted"] += 1
            # The project draws the file's bytes as validated; the others the file itself.
            drawers = {
                "project": (drawn_by_project, data),
                "cairosvg": (drawn_by_cairosvg, path),
                "librsvg": (drawn_by_librsvg, path),
                "resvg": (drawn_by_resvg, path),
            }
            for engine, (draw, source) in drawers.items():
                started = time.perf_counter()
                try:
                    image = draw(source, size)
                except (
                    *DRAWING_ERRORS,
                    RenderInputError,
                    TemplateError,
                    OSError,
                    pyvips.Error,
                ):
                    tally[f"{engine} failed"] += 1
                    continue
                finally:
                    seconds[engine] += time.perf_counter() - started
                if within_tolerance(image, reference):
                    tally[engine] += 1
    accepted = sum(tally["accepted"] for tally in counts.values())
    return {
        "suite": label or str(suite),
        "tolerance": f"<= {MAX_OFF_SHARE:.0%} of pixels off by > {MAX_CHANNEL_OFF}/255",
        "categories": {category: dict(tally) for category, tally in counts.items()},
        "ms_per_accepted_test": {
            engine: round(1000 * seconds[engine] / max(accepted, 1), 2) for engine in ENGINES
        },
    }


CORPUS = ROOT / "tests" / "render" / "design_exports"
CORPUS_PX = 512  # the longer side each export is drawn at


def templated(data: bytes, layers: list[dict]) -> bytes:
    """An export as a catalog team turns it into a template: the rf namespace on the root, and
    rf:layer (with rf:box, and an id where it had none) on each element `layers` names, by id
    or as the nth of its tag; nothing else changes."""
    text = data.decode("utf-8")
    root = re.search(r"<svg\b", text)
    text = f'{text[: root.end()]} xmlns:rf="{RF_NS}"{text[root.end() :]}'
    for layer in layers:
        added = f' rf:layer="{layer["layer"]}"'
        if "box" in layer:
            added += f' rf:box="{layer["box"]}"'
        if "tag" in layer:
            at = list(re.finditer(rf"<{layer['tag']}\b", text))[layer["nth"] - 1].end()
            added = f' id="{layer["id"]}"' + added
        else:
            at = re.search(rf'\bid="{re.escape(layer["id"])}"', text).end()
        text = text[:at] + added + text[at:]
    return text.encode("utf-8")


def off_share_nearby(drawn: Image.Image, reference: Image.Image) -> float:
    """The share of pixels off by more than MAX_CHANNEL_OFF from every reference pixel of its
    3x3 neighbourhood, in some channel."""
    low = reference.filter(ImageFilter.MinFilter(3))
    high = reference.filter(ImageFilter.MaxFilter(3))
    below = ImageChops.subtract(low, drawn)  # how far under the darkest neighbour
    above = ImageChops.subtract(drawn, high)  # how far over the lightest
    worst = ImageChops.lighter(below, above).split()
    worst = ImageChops.lighter(ImageChops.lighter(worst[0], worst[1]), worst[2])
    off = worst.point(lambda value: 255 if value > MAX_CHANNEL_OFF else 0).histogram()[255]
    return off / (reference.width * reference.height)


def corpus_figures(folder: Path = CORPUS) -> dict:
    """Each export: accepted as a template, and its share off against resvg and librsvg."""
    manifest = json.loads((folder / "corpus.json").read_text())
    files = {}
    for name, entry in manifest["files"].items():
        data = (folder / name).read_bytes()
        figures: dict = {"tool": entry["tool"]}
        try:
            template = parse_template(templated(data, entry["layers"]), name, "corpus")
        except TemplateError as error:
            figures["refused"] = str(error)
            files[name] = figures
            continue
        scale = CORPUS_PX / max(template.design_width, template.design_height)
        size = (round(template.design_width * scale), round(template.design_height * scale))
        laid_out = layout(template, {}, Fraction(*size))
        drawn = rasterize(
            laid_out.svg, *size, dict(template.embedded_images), laid_out.outlines
        ).convert("RGB")
        references = {
            "resvg": over_white(
                bytes(
                    resvg_py.svg_to_bytes(svg_string=data.decode(), width=size[0], height=size[1])
                ),
                size,
            ),
            "librsvg": over_white(librsvg_png(data, size), size),
        }
        for engine, reference in references.items():
            figures[engine] = round(off_share_nearby(drawn, reference), 4)
        figures["within"] = min(figures["resvg"], figures["librsvg"]) <= MAX_OFF_SHARE
        files[name] = figures
    return files


def corpus_report(files: dict) -> list[str]:
    rows = ["", f"{'design tool exports':<38}{'accepted':>10}{'within':>8}{'worst off':>11}"]
    by_tool: dict[str, list[dict]] = {}
    for figures in files.values():
        by_tool.setdefault(figures["tool"], []).append(figures)
    for tool, entries in by_tool.items():
        accepted = [e for e in entries if "refused" not in e]
        within = sum(1 for e in accepted if e["within"])
        worst = max((min(e["resvg"], e["librsvg"]) for e in accepted), default=0.0)
        rows.append(f"{tool:<38}{len(accepted):>5}/{len(entries):<4}{within:>8}{worst:>10.2%}")
    return rows


def report(results: dict) -> str:
    rows = [f"{'category':<15}{'tests':>7}{'accepted':>10}" + "".join(f"{e:>10}" for e in ENGINES)]
    totals: Counter = Counter()
    for category, tally in results["categories"].items():
        totals.update(tally)
        rows.append(
            f"{category:<15}{tally.get('tests', 0):>7}{tally.get('accepted', 0):>10}"
            + "".join(f"{tally.get(engine, 0):>10}" for engine in ENGINES)
        )
    rows.append(
        f"{'all':<15}{totals['tests']:>7}{totals['accepted']:>10}"
        + "".join(f"{totals[engine]:>10}" for engine in ENGINES)
    )
    if totals["resvg"]:
        rows.append(
            f"the project draws {totals['project'] / totals['resvg']:.0%} of resvg's count and "
            f"plain cairosvg {totals['cairosvg'] / totals['resvg']:.0%}, on what the validator "
            f"accepts ({results['tolerance']})"
        )
    if totals["resvg"]:
        rows.append(
            f"librsvg draws {totals['librsvg'] / totals['resvg']:.0%} of resvg's count on the same "
            "tests"
        )
    per_test = results["ms_per_accepted_test"]
    rows.append("ms per accepted test: " + ", ".join(f"{e} {per_test[e]}" for e in ENGINES))
    if results.get("corpus"):
        rows += corpus_report(results["corpus"])
    catalog = results.get("catalog_ms")
    if catalog:
        rows.append("")
        rows.append(
            f"{'bench catalog, ms per hero output':<40}" + "".join(f"{e:>10}" for e in ENGINES)
        )
        for name, timings in catalog.items():
            rows.append(f"{name:<40}" + "".join(f"{timings[e]:>10}" for e in ENGINES))
        shadow = catalog["product-card with a drop shadow"]["project"]
        plain = catalog["product-card"]["project"]
        rows.append(f"a drop shadow costs the project {shadow / plain:.2f}x the plain card")
    return "\n".join(rows)


# Figma's export of a drop shadow (0 8 32 #000 at 18%), as the bench's shadowed card wears it.
FIGMA_SHADOW = (
    b'<defs><filter id="shadow" x="0" y="0" width="1040" height="1048" '
    b'filterUnits="userSpaceOnUse" color-interpolation-filters="sRGB">'
    b'<feFlood flood-opacity="0" result="BackgroundImageFix"/>'
    b'<feColorMatrix in="SourceAlpha" type="matrix" '
    b'values="0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 127 0" result="hardAlpha"/>'
    b'<feOffset dy="8"/><feGaussianBlur stdDeviation="16"/>'
    b'<feComposite in2="hardAlpha" operator="out"/>'
    b'<feColorMatrix type="matrix" values="0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0.18 0"/>'
    b'<feBlend mode="normal" in2="BackgroundImageFix" result="effect1_dropShadow"/>'
    b'<feBlend mode="normal" in="SourceGraphic" in2="effect1_dropShadow" result="shape"/>'
    b"</filter></defs>"
)
_CARD = b'<rect x="40" y="40" width="920" height="920" rx="36" fill="#ffffff"/>'
HERO_SIZES = {"product-card": (1200, 1200), "banner": (1600, 600)}


def catalog_speed(repeats: int = 5) -> dict[str, dict[str, float]]:
    """Milliseconds per hero output of each bundled template (best of `repeats`) by each engine,
    and of the product card with a drop shadow on its card."""
    templates_folder = ROOT / "renderfarm_dagster" / "templates"
    sources = {name: (templates_folder / f"{name}.svg").read_bytes() for name in HERO_SIZES}
    card = sources["product-card"]
    assert _CARD in card, "the bench's shadow goes on the product card's card"
    sources["product-card with a drop shadow"] = card.replace(
        _CARD, FIGMA_SHADOW + _CARD.replace(b"/>", b' filter="url(#shadow)"/>')
    )
    timings = {}
    for name, source in sources.items():
        size = HERO_SIZES[name.split(" ")[0]]
        template = parse_template(source, f"{name}.svg", "bench", brand_families=None)
        laid_out = layout(template, {}, Fraction(*size))
        timings[name] = {
            engine: _best_ms(engine, laid_out.svg, size, laid_out.outlines, repeats)
            for engine in ENGINES
        }
    return timings


def _draw_with(engine: str, svg: bytes, size: tuple[int, int], outlines) -> None:
    if engine == "project":
        rasterize(svg, *size, outlines=outlines)
    elif engine == "cairosvg":
        cairosvg.svg2png(bytestring=svg, output_width=size[0], output_height=size[1])
    elif engine == "librsvg":
        librsvg_png(svg, size)
    else:
        resvg_py.svg_to_bytes(svg_string=svg.decode(), width=size[0], height=size[1])


def _best_ms(engine: str, svg: bytes, size: tuple[int, int], outlines, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        _draw_with(engine, svg, size, outlines)
        best = min(best, time.perf_counter() - started)
    return round(1000 * best, 1)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fidelity", description=__doc__)
    parser.add_argument("suite", type=Path, help="resvg's crates/resvg/tests/tests folder")
    parser.add_argument("--categories", nargs="+", default=list(CATEGORIES))
    parser.add_argument("--json", type=Path, default=RESULTS)
    parser.add_argument("--label", default="", help="what the suite is (repository and commit)")
    args = parser.parse_args()
    results = measure(args.suite, tuple(args.categories), args.label)
    results["corpus"] = corpus_figures()
    results["catalog_ms"] = catalog_speed()
    print(report(results))
    args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
