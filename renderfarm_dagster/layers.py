"""What a spec sets on a template's layer: the value the layout engine applies."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LayerValue:
    """One layer's setting for one variant (None: the template's default)."""

    text: str | None = None
    image: str | None = None  # the photo's object key, assets/...
    fit: str | None = None  # "cover" or "contain"
    focal: tuple[float, float] | None = None
    color: str | None = None
    hidden: bool | None = None

    @property
    def kind(self) -> str | None:
        """The layer kind this value is for: text, image or color (None: only hidden)."""
        if self.text is not None:
            return "text"
        if self.image is not None or self.fit is not None or self.focal is not None:
            return "image"
        if self.color is not None:
            return "color"
        return None

    def over(self, base: LayerValue) -> LayerValue:
        """This value with `base`'s fields where this one sets none (a variant over a product)."""
        return LayerValue(
            **{
                name: mine if mine is not None else getattr(base, name)
                for name, mine in self.__dict__.items()
            }
        )
