"""The output formats: one registry that the spec, the renderer, the verifier and the bench read.

Adding a format means adding an entry here (and its encoder in render/raster.py): the spec
accepts exactly these names, and every other module looks the rest up.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OutputFormat:
    name: str  # as written in a spec's outputs[].format
    extension: str  # of the output's object key
    content_type: str
    pillow_format: str  # what Pillow's Image.format says when it decodes one
    lossless: bool
    # For lossy formats: the quality used when a spec gives none.
    default_quality: int | None = None


FORMATS: dict[str, OutputFormat] = {
    format.name: format
    for format in (
        OutputFormat("png", "png", "image/png", "PNG", lossless=True),
        OutputFormat("webp", "webp", "image/webp", "WEBP", lossless=False, default_quality=80),
        OutputFormat("jpeg", "jpg", "image/jpeg", "JPEG", lossless=False, default_quality=85),
    )
}
