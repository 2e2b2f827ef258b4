"""`sloalert convert`: Sloth and OpenSLO documents in, SLOAlert resources out. Pure.

Each source SLO becomes one SLOAlert, or one or more refusals naming the field and the
document: what sloalert cannot express (calendar windows, timeslice budgeting, threshold
metrics, sources other than Prometheus, Sloth plugins) is refused per SLO, never guessed. Every
SLOAlert is validated as `sloalert validate` would, so what is written loads. The readers are
`convert_sloth` and `convert_openslo`; what they share is in `convert_common`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sloalert import convert_openslo, convert_sloth, documents
from sloalert.convert_common import SOURCE_ANNOTATION, Converted, Refusal, Result, name

__all__ = ["SOURCE_ANNOTATION", "Converted", "Refusal", "Result", "convert", "is_source", "name"]


def convert(items: Iterable[documents.Document | documents.Unreadable]) -> Iterator[Result]:
    """Every SLO of every readable document, converted or refused; an SLOAlert whose name an
    earlier one of the run has is refused (it would replace that one when applied)."""
    seen: dict[tuple[str, str], Converted] = {}
    for result in _all(items):
        if isinstance(result, Converted):
            metadata = result.resource["metadata"]
            key = (metadata.get("namespace", ""), metadata["name"])
            first = seen.setdefault(key, result)
            if first is not result:
                result = _duplicate(result, first)
        yield result


def _all(items: Iterable[documents.Document | documents.Unreadable]) -> Iterator[Result]:
    bodies = []
    for item in items:
        if isinstance(item, documents.Unreadable):
            yield Refusal(item.origin, "", item.problem.field, item.problem.message)
        else:
            bodies.append(item)
    # OpenSLO documents name each other (indicatorRef, alertPolicies): read them together.
    yield from convert_openslo.convert(item for item in bodies if convert_openslo.claims(item.body))
    for item in bodies:
        if convert_sloth.claims(item.body):
            yield from convert_sloth.convert(item)


def _duplicate(result: Converted, first: Converted) -> Refusal:
    return Refusal(
        result.origin,
        result.document,
        result.field or "the SLO",
        f"converts to the SLOAlert name {result.resource['metadata']['name']!r}, which "
        f"{first.source} converts to too: rename one of the two SLOs",
    )


def is_source(body: Any) -> bool:
    """Whether `sloalert convert` reads this document (Sloth's or OpenSLO's)."""
    return convert_sloth.claims(body) or convert_openslo.claims(body)
