"""Errors in what a render was handed (a photo, a template), as opposed to failures of the farm."""

from __future__ import annotations


class RenderInputError(ValueError):
    """An input object that cannot be rendered; names its key and the reason.

    It fails the products that use the input, not the run's other products.
    """

    def __init__(self, key: str, reason: str):
        self.key = key
        self.reason = reason
        super().__init__(f"{key}: {reason}")
