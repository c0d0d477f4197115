"""The layer kinds, registered here and nowhere else: a template's `rf:layer="<name>"`, a spec's
layer settings, the layout, fingerprints and previews all read KINDS.

Adding a kind is a module beside these (base.py says what it defines) and a line below
(docs/extending.md); tests/render/test_layer_kinds.py holds every kind to the contract.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from renderfarm_dagster.layers import LayerValue
from renderfarm_dagster.render.kinds import color, image, text
from renderfarm_dagster.render.kinds.base import LayerKind

# In the order their layout steps run: colours first, since text follows a colour (rf:fill)
# and takes its ink by one (rf:contrast-on).
KINDS: dict[str, LayerKind] = {kind.name: kind for kind in (color.KIND, text.KIND, image.KIND)}


def kinds_set(fields: Iterable[str]) -> list[str]:
    """What a setting of these fields sets, per kind: the kind's name, or the alternatives it
    names (["text"], ["price"]; ["text", "image"] is two kinds)."""
    fields = set(fields)
    named = []
    for kind in KINDS.values():
        alternatives = [name for name in kind.alternatives if name in fields]
        if alternatives:
            named += alternatives
        elif fields & set(kind.settings):
            named.append(kind.name)
    return named


def kind_of_settings(fields: Iterable[str]) -> LayerKind | None:
    """The kind whose settings these are (None: no kind's; they are checked to be one kind)."""
    fields = set(fields)
    return next((kind for kind in KINDS.values() if fields & set(kind.settings)), None)


def photo_keys(values: Mapping[str, LayerValue]) -> set[str]:
    """The photos a variant's values show."""
    return {
        key
        for kind in KINDS.values()
        for value in values.values()
        for key in kind.photo_keys(value)
    }
