"""Draw docs/images/multilingual-example.png: the example product's German, Arabic and Japanese
variants side by side, as the renderer draws them (docs/text-and-photos.md, "Text in every
script")."""

from __future__ import annotations

import io
from importlib import resources
from pathlib import Path

from PIL import Image

from renderfarm_dagster.catalog.rendering import render_spec_variant
from renderfarm_dagster.spec import parse_spec

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "docs" / "images" / "multilingual-example.png"
VARIANTS = ["green-350", "green-350-ar", "green-350-ja"]
TILE = 400


def main() -> None:
    examples = resources.files("renderfarm_dagster") / "examples"
    spec = parse_spec((examples / "nordlicht-thermobecher.json").read_bytes(), "example").spec
    photos = {key: examples.joinpath(*key.split("/")).read_bytes() for key in spec.photo_keys()}
    row = Image.new("RGB", (TILE * len(VARIANTS), TILE), "#ffffff")
    for index, variant_id in enumerate(VARIANTS):
        (listing,) = render_spec_variant(spec, variant_id, ["listing"], photos=photos)
        with Image.open(io.BytesIO(listing.data)) as image:
            row.paste(image.convert("RGB").resize((TILE, TILE), Image.Resampling.LANCZOS),
                      (TILE * index, 0))  # fmt: skip
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    row.save(TARGET, optimize=True)
    print(f"wrote {TARGET}")


if __name__ == "__main__":
    main()
