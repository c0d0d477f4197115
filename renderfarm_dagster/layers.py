"""What a spec sets on a template's layer: the value the layout engine applies.

A value holds the fields its layer kind reads (render/kinds/: `text` for a text layer; `image`,
`fit`, `focal` for an image layer; `color` for a color layer), only those a spec set, and
whether the layer is hidden. Unset fields are the template's defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class LayerValue:
    """One layer's setting for one variant: `LayerValue(text="Trail runner")`,
    `LayerValue(hidden=True)`. A field given as None is not set."""

    __slots__ = ("fields", "hidden")

    def __init__(self, hidden: bool | None = None, **fields: Any):
        self.fields: Mapping[str, Any] = {
            name: value for name, value in sorted(fields.items()) if value is not None
        }
        self.hidden = hidden

    def get(self, name: str) -> Any:
        """The field's value, None when this value does not set it."""
        return self.fields.get(name)

    def over(self, base: LayerValue) -> LayerValue:
        """This value with `base`'s fields where this one sets none (a variant over a product)."""
        return LayerValue(
            hidden=self.hidden if self.hidden is not None else base.hidden,
            **{**base.fields, **self.fields},
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LayerValue):
            return NotImplemented
        return (self.fields, self.hidden) == (other.fields, other.hidden)

    def __hash__(self) -> int:
        return hash((tuple(self.fields.items()), self.hidden))

    def __repr__(self) -> str:
        settings = [f"{name}={value!r}" for name, value in self.fields.items()]
        if self.hidden is not None:
            settings.append(f"hidden={self.hidden!r}")
        return f"LayerValue({', '.join(settings)})"

    def __getstate__(self) -> tuple:
        return (dict(self.fields), self.hidden)

    def __setstate__(self, state: tuple) -> None:
        self.fields, self.hidden = state
