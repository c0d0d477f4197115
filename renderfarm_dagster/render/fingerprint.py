"""What one output's pixels depend on, listed on purpose: its fingerprint.

A checkpoint lets a run skip an output only while the output's fingerprint is unchanged, so the
fingerprint must change with everything that changes pixels, and with nothing else: a field
added to a spec or a layer value must not re-render a whole catalog unless it draws something.
So it is built from a deliberate, versioned list:

- the template's bytes, the bytes of every photo the variant shows, every brand font's bytes;
- each layer value's fields in LAYER_FIELDS, each only when set (a new optional field, unset,
  adds nothing; a field added to the list changes only the fingerprints that set it);
- the output's OUTPUT_FIELDS: size, format and the quality it is encoded at (the format's
  default when none is given: the same pixels);
- the variant's language (line breaking, CJK glyph forms) and the renderer's versions.

FINGERPRINT_VERSION changes when the list's meaning does; every output renders again once then
(README, "Upgrading"). tests/render/test_fingerprint.py holds the list to what draws.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import fields

from renderfarm_dagster.layers import LayerValue
from renderfarm_dagster.spec import DEFAULT_LOCALE, OutputSpec

FINGERPRINT_VERSION = 2
# Every LayerValue field draws: text, the photo shown, how it fits, colour, visibility.
LAYER_FIELDS = ("text", "image", "fit", "focal", "color", "hidden")
# The output's name is not here: it names the output (its checkpoint and key), it draws nothing.
OUTPUT_FIELDS = ("width", "height", "format", "quality")
assert set(LAYER_FIELDS) <= {f.name for f in fields(LayerValue)}


def _layer_identity(value: LayerValue) -> dict:
    return {name: getattr(value, name) for name in LAYER_FIELDS if getattr(value, name) is not None}


def _output_identity(output: OutputSpec) -> dict:
    return {
        "width": output.width,
        "height": output.height,
        "format": output.format,
        "quality": output.effective_quality,
    }


def render_fingerprint(
    template_sha256: str,
    layers: Mapping[str, LayerValue],
    photo_sha256s: Mapping[str, str],
    output: OutputSpec,
    renderer: Mapping[str, str],
    language: str = DEFAULT_LOCALE,
    font_sha256s: Mapping[str, str] | None = None,
) -> str:
    """The sha256 of what one output's pixels depend on (the module's list)."""
    used = {value.image for value in layers.values() if value.image is not None}
    identity = {
        "version": FINGERPRINT_VERSION,
        "template": template_sha256,
        "layers": {name: _layer_identity(value) for name, value in sorted(layers.items())},
        "photos": {key: photo_sha256s[key] for key in sorted(used)},
        "language": language,
        "fonts": dict(sorted((font_sha256s or {}).items())),
        "output": _output_identity(output),
        "renderer": dict(renderer),
    }
    canonical = json.dumps(identity, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
