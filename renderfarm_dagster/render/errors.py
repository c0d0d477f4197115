"""Errors in what a render was handed (a photo, a template), as opposed to failures of the farm."""

from __future__ import annotations

from dataclasses import dataclass

from renderfarm_dagster.problems import FileProblems


class RenderInputError(ValueError):
    """An input object that cannot be rendered; names its key and the reason.

    It fails the products that use the input, not the run's other products.
    """

    def __init__(self, key: str, reason: str):
        self.key = key
        self.reason = reason
        super().__init__(f"{key}: {reason}")


class BlankRenditionError(RenderInputError):
    """A rendition of one flat colour: nothing of the template or its layers shows (a layer
    drawn over everything, text and shapes in the background colour). Never stored; it fails
    its product like a bad input."""

    def __init__(self, variant_id: str, output_name: str, template_name: str):
        super().__init__(
            f"variant {variant_id} output {output_name}",
            f"renders blank (a single flat colour) from template {template_name}",
        )


@dataclass(frozen=True)
class TemplateProblem:
    """One problem in a template file, located by element and line (line 0: the document as a
    whole)."""

    line: int
    element: str
    message: str
    # For a font family the catalog lacks: the file to upload (fonts/acme-sans-bold.ttf).
    missing_font: str = ""

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "document"
        return (
            f"{where}, <{self.element}>: {self.message}"
            if self.element
            else f"{where}: {self.message}"
        )

    def report(self) -> dict:
        return {"line": self.line, "element": self.element, "message": self.message}


class TemplateError(FileProblems):
    """A template file that cannot be used, with every problem found in it."""

    problems: list[TemplateProblem]
