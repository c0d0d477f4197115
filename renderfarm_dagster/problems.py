"""Problems found in a user's file (a spec, a template, a font), each with where it is: one
error type for all of them, which the CLI prints, the sensor's rejection reports store and a
run's failure names alike."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol


class Problem(Protocol):
    """One problem, located in its file (a JSON path; an element and line; the file)."""

    message: str

    def report(self) -> dict[str, Any]:
        """The problem in a machine-readable report: where it is and what is wrong."""


class FileProblems(ValueError):
    """A file that cannot be used, with every problem found in it (`source` names the file)."""

    def __init__(self, source: str, problems: Sequence[Problem]):
        self.source = source
        self.problems = list(problems)
        super().__init__("\n".join(f"{source}: {problem}" for problem in self.problems))

    def to_report(self) -> dict[str, Any]:
        """The machine-readable report stored next to a rejected file."""
        return {"source": self.source, "errors": [p.report() for p in self.problems]}
