"""What is wrong with a resource, said so a person can fix it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a resource."""

    field: str  # dotted path from the resource's root, e.g. "spec.indicator.ratio.errors"
    message: str  # what is wrong, for a person

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class InvalidSLOAlert(ValueError):
    """A resource that cannot become rules; `problems` lists every reason found."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        if not self.problems:
            raise ValueError("InvalidSLOAlert needs at least one problem")
        super().__init__("; ".join(str(problem) for problem in self.problems))
