"""What one output's pixels depend on, listed on purpose: its fingerprint.

A checkpoint lets a run skip an output only while the output's fingerprint is unchanged, so the
fingerprint must change with everything that changes pixels, and with nothing else: a field
added to a spec or a layer value must not re-render a whole catalog unless it draws something.
So it is built from a deliberate, versioned list:

- the bytes of the template layout the output is drawn from (render/layouts.py), the bytes of
  every photo the variant shows, every brand font's bytes;
- each layer value's fields, each only when set, and whether it is hidden: a value holds only
  what its kind's layout reads (render/kinds/), so each of its fields draws, and a new optional
  field, unset, adds nothing;
- the output's OUTPUT_FIELDS: size, format and the quality it is encoded at (the format's
  default when none is given: the same pixels), and the layout it names, when it names one;
- the variant's language (line breaking, CJK glyph forms) and the renderer's versions.

FINGERPRINT_VERSION changes when the list's meaning does; every output renders again once then
(README, "Upgrading"). tests/render/test_fingerprint.py holds the list to what draws.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from renderfarm_dagster.layers import LayerValue
from renderfarm_dagster.render.kinds import photo_keys
from renderfarm_dagster.spec_fields import DEFAULT_LOCALE, OutputSpec

FINGERPRINT_VERSION = 2
# The output's name is not here: it names the output (its checkpoint and key), it draws nothing.
OUTPUT_FIELDS = ("width", "height", "format", "quality", "layout")


def _layer_identity(value: LayerValue) -> dict:
    identity = dict(value.fields)
    if value.hidden is not None:
        identity["hidden"] = value.hidden
    return identity


def _output_identity(output: OutputSpec) -> dict:
    identity = {
        "width": output.width,
        "height": output.height,
        "format": output.format,
        "quality": output.effective_quality,
    }
    if output.layout is not None:
        identity["layout"] = output.layout
    return identity


def render_fingerprint(
    template_sha256: str,
    layers: Mapping[str, LayerValue],
    photo_sha256s: Mapping[str, str],
    output: OutputSpec,
    renderer: Mapping[str, str],
    language: str = DEFAULT_LOCALE,
    font_sha256s: Mapping[str, str] | None = None,
) -> str:
    """The sha256 of what one output's pixels depend on (the module's list);
    `template_sha256`: the layout's it is drawn from."""
    used = photo_keys(layers)
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
