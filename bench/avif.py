"""AVIF against WebP at equal quality, and libvips' AVIF encoder against Pillow's (`make bench`).

For each sample rendition (1200 px: cards of the flat catalog and of the photo catalog), WebP
at its default quality sets the bar: its bytes, its encode time and its SSIM against the
lossless rendition (scikit-image's `structural_similarity` on RGB). Each AVIF encoder setting
then gets the lowest quality whose SSIM is at least WebP's, found by bisection, and its bytes
and time there. One core: a worker encodes one output per process.
"""

from __future__ import annotations

import io
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image
from skimage.metrics import structural_similarity

from bench.catalog import photo_files
from bench.steps import load_catalog
from renderfarm_dagster.catalog.rendering import render_spec_variant
from renderfarm_dagster.formats import FORMATS

SIZE = 1200
# The settings compared: libvips' effort (0 fastest) and Pillow's speed (10 fastest).
VIPS_EFFORTS = (1, 2, 3, 4)
PILLOW_SPEEDS = (6, 7, 8)

Encoder = Callable[[Image.Image, int], bytes]


def _vips(effort: int) -> Encoder:
    import pyvips

    def encode(image: Image.Image, quality: int) -> bytes:
        pixels = pyvips.Image.new_from_memory(
            image.tobytes(), image.width, image.height, 3, "uchar"
        )
        return pixels.heifsave_buffer(
            Q=quality, compression="av1", effort=effort, keep=pyvips.enums.ForeignKeep.NONE
        )

    return encode


def _pillow(speed: int) -> Encoder:
    def encode(image: Image.Image, quality: int) -> bytes:
        buffer = io.BytesIO()
        image.save(buffer, "AVIF", quality=quality, speed=speed, max_threads=1)
        return buffer.getvalue()

    return encode


def _ssim(reference: np.ndarray, data: bytes) -> float:
    decoded = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    return float(structural_similarity(reference, decoded, channel_axis=2, data_range=255))


def _timed(encode: Encoder, image: Image.Image, quality: int, rounds: int) -> tuple[bytes, float]:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        data = encode(image, quality)
        best = min(best, time.perf_counter() - started)
    return data, best


def _matching(encode: Encoder, image: Image.Image, reference: np.ndarray, bar: float) -> int:
    """The lowest quality (1-100) whose SSIM reaches `bar`."""
    low, high = 1, 100
    while low < high:
        middle = (low + high) // 2
        if _ssim(reference, encode(image, middle)) >= bar:
            high = middle
        else:
            low = middle + 1
    return low


def samples(catalog: Path, photo_catalog: Path, count: int) -> list[Image.Image]:
    """`count` renditions from each catalog, SIZE px wide, as the encoders get them."""
    images = []
    photos = photo_files(photo_catalog)
    for folder, with_photos in ((catalog, False), (photo_catalog, True)):
        for spec in load_catalog(folder)[:count]:
            first = spec.outputs[0]
            height = round(SIZE * first.height / first.width)
            size = {"width": SIZE, "height": height, "format": "png"}
            spec = spec.model_copy(update={"outputs": [first.model_copy(update=size)]})
            variant_id = spec.variants[0].variant_id
            used = photos if with_photos else {}
            (rendered,) = render_spec_variant(spec, variant_id, photos=used)
            images.append(Image.open(io.BytesIO(rendered.data)).convert("RGB"))
    return images


def compare(catalog: Path, photo_catalog: Path, count: int, rounds: int) -> dict:
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    images = samples(catalog, photo_catalog, count)
    webp = FORMATS["webp"]
    settings: dict[str, Encoder] = {
        **{f"vips-effort-{effort}": _vips(effort) for effort in VIPS_EFFORTS},
        **{f"pillow-speed-{speed}": _pillow(speed) for speed in PILLOW_SPEEDS},
        "project": lambda image, quality: FORMATS["avif"].encode(image, quality),
    }
    per_image: list[dict] = []
    for image in images:
        reference = np.asarray(image)
        data, seconds = _timed(webp.encode, image, webp.default_quality, rounds)
        bar = _ssim(reference, data)
        row = {"webp": {"bytes": len(data), "ms": seconds * 1000, "ssim": bar}}
        for name, encode in settings.items():
            quality = _matching(encode, image, reference, bar)
            avif, avif_seconds = _timed(encode, image, quality, rounds)
            row[name] = {"quality": quality, "bytes": len(avif), "ms": avif_seconds * 1000}
        # The project's encoder at its default quality: what a spec without `quality` gets.
        default, default_seconds = _timed(
            settings["project"], image, FORMATS["avif"].default_quality, rounds
        )
        row["project-default"] = {
            "bytes": len(default),
            "ms": default_seconds * 1000,
            "ssim": _ssim(reference, default),
        }
        per_image.append(row)
    summary = {}
    for name in ("webp", *settings, "project-default"):
        summary[name] = {
            field: statistics.median(row[name][field] for row in per_image)
            for field in per_image[0][name]
        }
        summary[name]["bytes_vs_webp"] = statistics.median(
            row[name]["bytes"] / row["webp"]["bytes"] for row in per_image
        )
    return {"images": len(images), "size_px": SIZE, "summary": summary}
