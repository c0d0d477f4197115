"""Generated catalogs: products of both templates, their variants and the usual three outputs;
and a photo catalog, each variant showing its own 2000 x 2000 JPEG."""

from __future__ import annotations

import io
import json
import random
import struct
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

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


def write_in_format(source: Path, folder: Path, output_format: str) -> None:
    """The specs of the catalog in `source`, every output in `output_format` at its default
    quality, into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.glob("*.json")):
        doc = json.loads(path.read_text())
        doc["outputs"] = [
            {key: value for key, value in output.items() if key != "quality"}
            | {"format": output_format}
            for output in doc["outputs"]
        ]
        (folder / path.name).write_text(json.dumps(doc, indent=2))


# The photo catalog: each variant shows its own studio photo, as a catalog team uploads them.
PHOTO_SIZE = 2000
# One photo in five is stored sideways with an EXIF orientation, as phone cameras write them.
SIDEWAYS_EVERY = 5


def photo_key(product_id: str, variant_id: str) -> str:
    return f"assets/bench/{product_id}/{variant_id}.jpg"


def photo_spec(index: int, variants: int, rng: random.Random, fit: str = "cover") -> dict:
    noun, adjective = rng.choice(NOUNS), rng.choice(ADJECTIVES)
    product_id = f"photo-{index:03d}"
    colour_names = list(COLOURS)
    doc = {
        "spec_version": 2,
        "product_id": product_id,
        "template": "product-card",
        "layers": {
            "title": {"text": f"{adjective} {noun} {index}"},
            "price": {"text": f"€{rng.randint(19, 399)}.00"},
            # Cover around a typed focal point; or placed by the subject found in the photo.
            "photo": {"fit": "cover", "focal": [0.5, 0.45]} if fit == "cover" else {"fit": fit},
        },
        "variants": [],
        "outputs": CARD_OUTPUTS,
    }
    for number in range(variants):
        colour = colour_names[number % len(colour_names)]
        variant_id = f"{colour.lower()}-{number}"
        doc["variants"].append(
            {
                "variant_id": variant_id,
                "layers": {
                    "label": {"text": f"{colour} / {SIZES[number % len(SIZES)]}"},
                    "primary": {"color": COLOURS[colour]},
                    "photo": {"image": photo_key(product_id, variant_id)},
                },
            }
        )
    return doc


def studio_photo(colour: str, sideways: bool) -> bytes:
    """A 2000 x 2000 JPEG of a shaded product on a backdrop (quality 90, as cameras export)."""
    size = PHOTO_SIZE
    backdrop = Image.linear_gradient("L").resize((size, size)).point(lambda v: 200 + v // 6)
    image = Image.merge("RGB", (backdrop, backdrop, backdrop))
    shape = Image.new("L", (size, size), 0)
    ImageDraw.Draw(shape).rounded_rectangle(
        (size * 0.3, size * 0.2, size * 0.7, size * 0.85), radius=size // 12, fill=255
    )
    # Lit from the left: the product's colour darkens towards its right edge.
    light = Image.linear_gradient("L").rotate(90).resize((size, size)).point(lambda v: 255 - v // 2)
    body = Image.composite(
        Image.new("RGB", (size, size), colour), Image.new("RGB", (size, size)), light
    )
    image.paste(body, mask=shape.filter(ImageFilter.GaussianBlur(3)))
    # Sensor grain: a camera's JPEG is not smooth, and grain is what makes decoding cost.
    grain = Image.effect_noise((size, size), 40).convert("RGB")
    image = Image.blend(image, grain, 0.12)
    options: dict = {"quality": 90}
    if sideways:
        exif = Image.Exif()
        exif[0x0112] = 6
        image = image.transpose(Image.Transpose.ROTATE_90)
        options["exif"] = exif.tobytes()
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", **options)
    return buffer.getvalue()


def _with_comment(jpeg: bytes, comment: bytes) -> bytes:
    """The same JPEG with a comment segment (COM) after its start marker: other bytes, the
    same pixels and the same decoding work."""
    return jpeg[:2] + b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment + jpeg[2:]


def write_photo_catalog(
    folder: Path, products: int, variants: int, seed: int = 11, fit: str = "cover"
) -> None:
    """Specs in `folder`, photos under `folder/assets/` (the keys' layout); the same for the
    same arguments. `fit`: how the photo layer places the photo ("cover" at a focal point, or
    "subject"). A photo is drawn per colour and orientation, and each variant's file has
    its own comment, so that every variant decodes a photo of its own."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    drawn: dict[tuple[str, bool], bytes] = {}
    for index in range(products):
        doc = photo_spec(index, variants, rng, fit)
        (folder / f"{doc['product_id']}.json").write_text(json.dumps(doc, indent=2))
        for number, variant in enumerate(doc["variants"]):
            layers = variant["layers"]
            drawing = (layers["primary"]["color"], number % SIDEWAYS_EVERY == 0)
            if drawing not in drawn:
                drawn[drawing] = studio_photo(*drawing)
            path = folder / layers["photo"]["image"]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(_with_comment(drawn[drawing], layers["photo"]["image"].encode()))


def photo_files(folder: Path) -> dict[str, bytes]:
    """Every photo of a catalog written by write_photo_catalog, by key."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted((folder / "assets").rglob("*.jpg"))
    }
