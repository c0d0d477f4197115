"""`make fidelity`: how faithfully templates are drawn, measured on linebender/resvg's test suite.

Each test of the suite is an SVG beside the PNG its authors expect. For the categories templates
use, this counts the tests the project's validation accepts as a template, and of those, the
ones drawn within tolerance of the reference at the reference's size (at most 1% of pixels off
by more than 32/255 in any channel, both over white) by three engines side by side:

- the project: the template parsed and validated, laid out with its defaults, rasterised as an
  output is (render/template.py, render/layout.py, render/raster.py);
- plain cairosvg, given the original file (`cairosvg.svg2png`);
- resvg, through its Python binding (resvg-py, a dev dependency).

The suite is not in this repository: `make fidelity RESVG_TESTS=<resvg>/crates/resvg/tests/tests`
(a clone of github.com/linebender/resvg). Prints a table per category with each engine's count
and its time per test; writes bench/fidelity_results.json. A report, not a gate: it exits 0.
"""

from __future__ import annotations

import argparse
import io
import json
import time
from collections import Counter
from fractions import Fraction
from pathlib import Path

import cairosvg
import resvg_py
from PIL import Image, ImageChops

from renderfarm_dagster.render.errors import RenderInputError, TemplateError
from renderfarm_dagster.render.layout import layout
from renderfarm_dagster.render.raster import DRAWING_ERRORS, rasterize
from renderfarm_dagster.render.template import parse_template

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "fidelity_results.json"
CATEGORIES = ("structure", "shapes", "painting", "paint-servers", "masking", "filters", "text")
ENGINES = ("project", "cairosvg", "resvg")
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
                "resvg": (drawn_by_resvg, path),
            }
            for engine, (draw, source) in drawers.items():
                started = time.perf_counter()
                try:
                    image = draw(source, size)
                except (*DRAWING_ERRORS, RenderInputError, TemplateError, OSError):
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
    per_test = results["ms_per_accepted_test"]
    rows.append("ms per accepted test: " + ", ".join(f"{e} {per_test[e]}" for e in ENGINES))
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fidelity", description=__doc__)
    parser.add_argument("suite", type=Path, help="resvg's crates/resvg/tests/tests folder")
    parser.add_argument("--categories", nargs="+", default=list(CATEGORIES))
    parser.add_argument("--json", type=Path, default=RESULTS)
    parser.add_argument("--label", default="", help="what the suite is (repository and commit)")
    args = parser.parse_args()
    results = measure(args.suite, tuple(args.categories), args.label)
    print(report(results))
    args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
