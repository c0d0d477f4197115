"""A generated catalog: products of both templates, their variants and the usual three outputs."""

from __future__ import annotations

import json
import random
from pathlib import Path

# Sizes a storefront asks for: a hero image, a listing image and a thumbnail.
CARD_OUTPUTS = [
    {"name": "hero", "width": 1200, "height": 1200, "format": "png"},
    {"name": "listing", "width": 600, "height": 600, "format": "webp"},
    {"name": "thumb", "width": 200, "height": 200, "format": "jpeg"},
]
BANNER_OUTPUTS = [
    {"name": "hero", "width": 1600, "height": 600, "format": "png"},
    {"name": "listing", "width": 800, "height": 300, "format": "webp"},
    {"name": "thumb", "width": 400, "height": 150, "format": "jpeg"},
]
NOUNS = ["Jacket", "Runner", "Backpack", "Thermos", "Tent", "Headlamp", "Fleece", "Boot"]
ADJECTIVES = ["Summit", "Trail", "Nordic", "Harbour", "Canyon", "Glacier", "Meadow", "Urban"]
COLOURS = {
    "Blue": "#1d4e89",
    "Forest": "#2d6a4f",
    "Black": "#222222",
    "Sand": "#d6c7a1",
    "Rust": "#a4462b",
    "Plum": "#5b2a5e",
}
SIZES = ["XS", "S", "M", "L", "XL"]


def product_spec(index: int, variants: int, rng: random.Random) -> dict:
    noun, adjective = rng.choice(NOUNS), rng.choice(ADJECTIVES)
    # One product in four is a banner: wide outputs, another drawing.
    banner = index % 4 == 3
    doc = {
        "spec_version": 1,
        "product_id": f"bench-{index:03d}",
        "template": "banner" if banner else "product-card",
        "title": f"{adjective} {noun} {index}",
        "subtitle": rng.choice([None, "Recycled materials, lifetime repairs"]),
        "price": {"amount": f"{rng.randint(19, 399)}.00", "currency": rng.choice(["USD", "EUR"])},
        "variants": [],
        "outputs": BANNER_OUTPUTS if banner else CARD_OUTPUTS,
    }
    colour_names = list(COLOURS)
    for number in range(variants):
        colour = colour_names[number % len(colour_names)]
        size = SIZES[number // len(colour_names) % len(SIZES)]
        variant = {
            "variant_id": f"{colour.lower()}-{size.lower()}-{number}",
            "label": f"{colour} / {size}",
            "colors": {"primary": COLOURS[colour], "accent": rng.choice(list(COLOURS.values()))},
        }
        if rng.random() < 0.3:
            variant["badge"] = rng.choice(["New", "Last sizes", "Bestseller"])
        doc["variants"].append(variant)
    return {key: value for key, value in doc.items() if value is not None}


def generate(products: int, variants: int, seed: int = 7) -> list[bytes]:
    """`products` spec documents of `variants` variants each; the same for the same arguments."""
    rng = random.Random(seed)
    return [
        json.dumps(product_spec(index, variants, rng), indent=2).encode("utf-8")
        for index in range(products)
    ]


def write(folder: Path, products: int, variants: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for document in generate(products, variants):
        path = folder / f"{json.loads(document)['product_id']}.json"
        path.write_bytes(document)
        paths.append(path)
    return paths
