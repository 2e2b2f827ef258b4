"""Sloth's SLO specs as SLOAlerts: `prometheus/v1` files and `sloth.slok.dev/v1`
PrometheusServiceLevel objects.

Sloth's SLI is the ratio of its error query to its total query, each with `{{.window}}` where
the range goes; an SLOAlert's expression indicator is that same ratio with `$window`, so every
window records the same error ratio Sloth would. A raw `error_ratio_query` is taken as it is.
Sloth's page and ticket alerts are sloalert's page and ticket tiers (the same SRE workbook
factors over the same windows for a 30-day SLO). The service's and the alerting's labels go
on the alerts; Sloth plugins cannot be converted.
"""

from __future__ import annotations

import re
from typing import Any, Final

from sloalert import convert_common, documents
from sloalert.conventions import WINDOW_PLACEHOLDER
from sloalert.convert_common import (
    DESCRIPTION_ANNOTATION,
    Refusal,
    Refused,
    Result,
    Source,
    checked,
    mapping,
    name,
    percent,
    resource,
    string_map,
)

FILE_VERSION: Final = "prometheus/v1"
API_VERSION: Final = "sloth.slok.dev/v1"
KIND: Final = "PrometheusServiceLevel"
# Sloth's window placeholder, a Go template action: `{{.window}}`, `{{ .window }}`.
WINDOW: Final = re.compile(r"\{\{-?\s*\.window\s*-?\}\}")


def claims(body: Any) -> bool:
    if not isinstance(body, dict):
        return False
    return body.get("version") == FILE_VERSION or (
        body.get("apiVersion") == API_VERSION and body.get("kind") == KIND
    )


def convert(item: documents.Document) -> list[Result]:
    body = item.body
    kubernetes = body.get("apiVersion") == API_VERSION
    # The CRD spells fields in camelCase, the file in snake_case; the shape is the same.
    keys = _CAMEL if kubernetes else _SNAKE
    prefix = "spec." if kubernetes else ""
    metadata = body.get("metadata")
    named = metadata.get("name", "") if isinstance(metadata, dict) else ""
    kind = f"{KIND} {named}" if kubernetes else f"Sloth {FILE_VERSION}"
    document = convert_common.document(kind, item.index)
    try:
        metadata = mapping(metadata, "metadata")
        spec = mapping(body.get("spec"), "spec") if kubernetes else body
        if spec.get(keys["plugins"]):
            raise Refused(
                prefix + keys["plugins"],
                "Sloth plugins cannot be converted: their rules are Go code sloalert cannot read",
            )
        slos = spec.get("slos") or []
        if not isinstance(slos, list):
            raise Refused(prefix + "slos", "must be a list")
    except Refused as refused:
        return [Refusal(item.origin, document, refused.field, refused.message)]
    results: list[Result] = []
    for index, slo in enumerate(slos):
        source = Source(item.origin, document, f"{prefix}slos[{index}]")
        try:
            converted = _slo(source, spec, slo, keys, prefix, metadata.get("namespace"))
        except Refused as refused:
            results.append(Refusal(source.origin, source.document, refused.field, refused.message))
            continue
        results.extend(checked(source, converted))
    if not results:
        results.append(Refusal(item.origin, document, prefix + "slos", "no SLO to convert"))
    return results


_SNAKE: Final = {
    "plugins": "slo_plugins",
    "error": "error_query",
    "total": "total_query",
    "raw": "error_ratio_query",
    "page": "page_alert",
    "ticket": "ticket_alert",
}
_CAMEL: Final = {
    "plugins": "sloPlugins",
    "error": "errorQuery",
    "total": "totalQuery",
    "raw": "errorRatioQuery",
    "page": "pageAlert",
    "ticket": "ticketAlert",
}


def _slo(
    source: Source,
    service_level: dict[str, Any],
    slo: Any,
    keys: dict[str, str],
    prefix: str,
    namespace: str | None,
) -> dict[str, Any]:
    at = source.field
    slo = mapping(slo, at)
    for plugins in ("plugins", keys["plugins"]):
        if slo.get(plugins):
            raise Refused(f"{at}.{plugins}", "Sloth plugins cannot be converted")
    sli = mapping(slo.get("sli"), f"{at}.sli")
    if sli.get("plugin"):
        raise Refused(f"{at}.sli.plugin", "Sloth SLI plugins cannot be converted")
    service = service_level.get("service")
    if not isinstance(service, str):
        raise Refused(f"{prefix}service", "required: the service the SLOs belong to")
    slo_name = slo.get("name")
    if not isinstance(slo_name, str):
        raise Refused(f"{at}.name", "required")
    alerting = mapping(slo.get("alerting"), f"{at}.alerting")
    spec: dict[str, Any] = {
        "service": service,
        "indicator": {"expression": _ratio(sli, keys, f"{at}.sli")},
        "objective": percent(slo.get("objective"), f"{at}.objective"),
        "alerting": _alerting(alerting, keys, f"{at}.alerting"),
        "labels": {
            **string_map(service_level.get("labels"), f"{prefix}labels"),
            **string_map(slo.get("labels"), f"{at}.labels"),
            **string_map(alerting.get("labels"), f"{at}.alerting.labels"),
        },
        "annotations": string_map(alerting.get("annotations"), f"{at}.alerting.annotations"),
    }
    notes = {}
    if isinstance(slo.get("description"), str):
        notes[DESCRIPTION_ANNOTATION] = slo["description"]
    return resource(source, name(service, slo_name), namespace, spec, notes)


def _ratio(sli: dict[str, Any], keys: dict[str, str], at: str) -> str:
    """Sloth's error ratio with sloalert's window placeholder."""
    raw = mapping(sli.get("raw"), f"{at}.raw")
    if isinstance(raw.get(keys["raw"]), str):
        return _with_window(raw[keys["raw"]], f"{at}.raw.{keys['raw']}")
    if "events" not in sli:
        raise Refused(at, "needs events (error and total queries) or raw (an error ratio query)")
    events = mapping(sli.get("events"), f"{at}.events")
    queries = []
    for key in (keys["error"], keys["total"]):
        query = events.get(key)
        if not isinstance(query, str):
            raise Refused(f"{at}.events.{key}", "required: a PromQL query")
        queries.append(_with_window(query.strip(), f"{at}.events.{key}"))
    error, total = queries
    # Sloth records exactly (error) / (total).
    return f"({error})\n/\n({total})"


def _with_window(query: str, field: str) -> str:
    """A Sloth query with sloalert's window placeholder where Sloth's is. Any other template
    action (`{{.service}}`) is refused: Sloth would fill it in, sloalert cannot."""
    converted = WINDOW.sub(WINDOW_PLACEHOLDER, query)
    if "{{" in converted:
        raise Refused(
            field,
            "Go template actions other than {{.window}} cannot be converted: write the "
            "value they stand for into the query",
        )
    return converted


def _alerting(alerting: dict[str, Any], keys: dict[str, str], at: str) -> dict[str, Any]:
    converted: dict[str, Any] = {}
    if isinstance(alerting.get("name"), str):
        converted["name"] = alerting["name"]
    for tier in ("page", "ticket"):
        field = f"{at}.{keys[tier]}"
        part = mapping(alerting.get(keys[tier]), field)
        tier_spec: dict[str, Any] = {}
        if part.get("disable") is True:
            tier_spec["enabled"] = False
        labels = string_map(part.get("labels"), f"{field}.labels")
        notes = string_map(part.get("annotations"), f"{field}.annotations")
        if labels:
            tier_spec["labels"] = labels
        if notes:
            tier_spec["annotations"] = notes
        if tier_spec:
            converted[tier] = tier_spec
    return converted
