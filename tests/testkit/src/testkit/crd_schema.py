"""Validate resources against a CRD's structural schema offline, the way the API server would.

This is the OpenAPI part only (types, enums, bounds, patterns, required fields, and unknown
fields refused as `kubectl apply`'s strict field validation does). CEL rules
(x-kubernetes-validations) are not evaluated here: a real API server does that.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

PRESERVE_UNKNOWN = "x-kubernetes-preserve-unknown-fields"
_QUOTED = re.compile(r"'([^']+)'")


def load_crd(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def version_schema(crd: Mapping[str, Any], version: str) -> dict[str, Any]:
    for served in crd["spec"]["versions"]:
        if served["name"] == version:
            return served["schema"]["openAPIV3Schema"]
    raise KeyError(f"{crd['metadata']['name']} has no version {version}")


def strict(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The schema with unknown fields refused wherever the API server would refuse them.

    Structural schemas may not say additionalProperties: false; the server prunes unknown
    fields instead, and strict field validation turns each pruned field into an error.
    """
    result = copy.deepcopy(dict(schema))
    for node in _objects(result):
        if "properties" in node and not node.get(PRESERVE_UNKNOWN):
            node.setdefault("additionalProperties", False)
    return result


def validator(crd: Mapping[str, Any], version: str) -> jsonschema.Draft4Validator:
    # OpenAPI v3.0 schemas are JSON Schema draft 4 as far as validation goes (boolean
    # exclusiveMinimum, no const); the x-kubernetes-* keywords are ignored.
    return jsonschema.Draft4Validator(strict(version_schema(crd, version)))


def errors(crd: Mapping[str, Any], version: str, resource: Any) -> list[str]:
    """Each schema violation as `dotted.path: message`; empty when the resource passes."""
    found = []
    for error in validator(crd, version).iter_errors(resource):
        path = [str(part) for part in error.absolute_path]
        # Name the missing or unknown field itself, as the API server does.
        if error.validator == "required":
            names = _QUOTED.findall(error.message)[:1]
        elif error.validator == "additionalProperties":
            names = _QUOTED.findall(error.message)
        else:
            names = [""]
        for name in names:
            found.append(f"{'.'.join([*path, name] if name else path)}: {error.message}")
    return sorted(found)


def _objects(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _objects(value)
    elif isinstance(node, list):
        for item in node:
            yield from _objects(item)
