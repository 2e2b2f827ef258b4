"""What `sloalert convert`'s readers (convert_sloth, convert_openslo) share: results, refusals,
names, the SLOAlert they build and its validation. Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from sloalert import conventions
from sloalert.errors import InvalidSLOAlert
from sloalert.validation import load

# The metadata annotation naming where an SLOAlert was converted from.
SOURCE_ANNOTATION: Final = f"{conventions.GROUP}/converted-from"
DESCRIPTION_ANNOTATION: Final = f"{conventions.GROUP}/description"
_NOT_NAME: Final = re.compile(r"[^a-z0-9.-]+")


class Refused(ValueError):
    """What cannot be converted: the source field and why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Refusal:
    origin: str  # the file
    document: str  # the document in it: kind, name and place; "" for an unreadable file
    field: str  # the field of the source document
    message: str

    def __str__(self) -> str:
        where = [self.origin, self.document] if self.document else [self.origin]
        return ": ".join([*where, self.field, self.message])


@dataclass(frozen=True)
class Converted:
    origin: str
    document: str
    resource: dict[str, Any]
    field: str = ""  # where the SLO sits in its document, as in Source

    @property
    def source(self) -> str:
        return where(Source(self.origin, self.document, self.field))


Result = Converted | Refusal


@dataclass(frozen=True)
class Source:
    """One source SLO to convert, with what names it for a person."""

    origin: str
    document: str
    field: str  # where the SLO sits in its document: "" or "slos[1]"


def name(*parts: str) -> str:
    """A Kubernetes object name from source names: lower case, other characters as '-'."""
    text = _NOT_NAME.sub("-", "-".join(part for part in parts if part).lower()).strip("-.")
    return text[:253].rstrip("-.") or "slo"


def document(kind: str, index: int) -> str:
    """How a result names its source document: its kind (and name), and its place in the file
    (a file may hold several documents of one kind)."""
    return f"{kind} (document {index})"


def where(source: Source) -> str:
    """The file, document and field an SLO was converted from, for a person."""
    return f"{source.origin}: {source.document}" + (f" {source.field}" if source.field else "")


def resource(
    source: Source,
    slo_name: str,
    namespace: str | None,
    spec: dict[str, Any],
    annotations: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """An SLOAlert resource naming its source in an annotation."""
    metadata: dict[str, Any] = {"name": slo_name}
    if namespace:
        metadata["namespace"] = namespace
    metadata["annotations"] = {SOURCE_ANNOTATION: where(source), **(annotations or {})}
    return {
        "apiVersion": conventions.API_VERSION,
        "kind": conventions.KIND,
        "metadata": metadata,
        "spec": spec,
    }


def checked(source: Source, body: dict[str, Any]) -> list[Result]:
    """The converted resource, or why sloalert refuses it (as `sloalert validate` would)."""
    try:
        load(body)
    except InvalidSLOAlert as exc:
        return [
            Refusal(
                source.origin,
                source.document,
                source.field or "the SLO",
                f"converts to an SLOAlert sloalert refuses: {problem}",
            )
            for problem in exc.problems
        ]
    return [Converted(source.origin, source.document, body, source.field)]


def mapping(value: Any, field: str) -> dict[str, Any]:
    """`value` where the source expects a map: absent (None) is an empty one, anything else
    that is not a map is refused, naming `field`."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise Refused(field, f"must be a map, not {_kind(value)}")
    return dict(value)


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the string {value!r}"
    return f"{value!r}"


def percent(value: Any, field: str, *, scale: float = 1) -> float:
    """An objective as a percentage: a number strictly between 0 and 100 / `scale` (OpenSLO's
    `target` is a ratio, scale 100), refused naming `field` otherwise."""
    top = 100 / scale
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < top:
        raise Refused(field, f"must be a number between 0 and {top:g}, not {value!r}")
    return round(float(value) * scale, 10)


def string_map(value: Any, field: str) -> dict[str, str]:
    """A map of strings (labels, annotations); lists of strings are joined with ','."""
    found = {}
    for key, item in mapping(value, field).items():
        if isinstance(item, list) and all(isinstance(part, str) for part in item):
            item = ",".join(item)
        if not isinstance(item, str | int | float | bool):
            raise Refused(f"{field}.{key}", "must be a string")
        found[str(key)] = str(item)
    return found
