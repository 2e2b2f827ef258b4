"""OpenSLO v1 SLOs as SLOAlerts.

What converts: an `SLO` whose indicator (inline, or an `SLI` document referenced by
`indicatorRef`) is a `ratioMetric` of Prometheus counter queries, `good` or `bad` over `total`;
one objective (`target` or `targetPercent`); a rolling `timeWindow`; `Occurrences` budgeting;
and `AlertPolicy`/`AlertCondition` burn-rate conditions that match one of sloalert's tiers for
that window (the condition enables the whole tier, both of its window pairs). OpenSLO's counter
queries name no window: each becomes `sum(rate(query[$window]))`, and `bad` over `total` a ratio
indicator. Everything else is refused, naming the field.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Final

from sloalert import burnrate, convert_common, documents, durations
from sloalert.conventions import TIER_PAGE, TIER_TICKET, WINDOW_PLACEHOLDER
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
from sloalert.promql import PromQLError, number, parse_selector

API_VERSION: Final = "openslo/v1"
PROMETHEUS: Final = "prometheus"
ROLLING_UNITS: Final = ("m", "h", "d", "w")  # OpenSLO's M, Q and Y are calendar-like
GREATER: Final = ("gt", "gte")


def claims(body: Any) -> bool:
    return isinstance(body, dict) and body.get("apiVersion") == API_VERSION


def convert(items: Iterable[documents.Document]) -> Iterator[Result]:
    """Every SLO among `items`, with the SLIs, AlertPolicies and AlertConditions they name."""
    items = list(items)
    named: dict[tuple[str, str], Any] = {}
    for item in items:
        named.setdefault((str(item.body.get("kind", "")), _name(item.body)), item.body)
    for item in items:
        if item.body.get("kind") != "SLO":
            continue
        source = Source(
            item.origin, convert_common.document(f"SLO {_name(item.body)}", item.index), ""
        )
        try:
            slo = _slo(source, item.body, named)
        except Refused as refused:
            yield Refusal(source.origin, source.document, refused.field, refused.message)
            continue
        yield from checked(source, slo)


def _name(body: dict[str, Any]) -> str:
    """metadata.name, or "" when the document has none (it is refused where it matters)."""
    metadata = body.get("metadata")
    found = metadata.get("name") if isinstance(metadata, dict) else None
    return found if isinstance(found, str) else ""


def _slo(source: Source, slo: dict[str, Any], named: dict[tuple[str, str], Any]) -> dict[str, Any]:
    metadata = mapping(slo.get("metadata"), "metadata")
    spec = mapping(slo.get("spec"), "spec")
    slo_name = metadata.get("name")
    if not isinstance(slo_name, str):
        raise Refused("metadata.name", "required")
    method = spec.get("budgetingMethod", "Occurrences")
    if method != "Occurrences":
        raise Refused(
            "spec.budgetingMethod",
            f"{method} cannot be converted: sloalert counts events (Occurrences), not good "
            "time slices",
        )
    window = _window(spec.get("timeWindow"))
    indicator = _indicator(spec, named)
    objective = _objective(spec.get("objectives"))
    service = spec.get("service")
    if not isinstance(service, str):
        raise Refused("spec.service", "required: the Service's name")
    converted: dict[str, Any] = {
        "service": service,
        "indicator": indicator,
        "objective": objective,
        "window": window,
        "labels": string_map(metadata.get("labels"), "metadata.labels"),
    }
    alerting = _alerting(spec.get("alertPolicies"), window, named)
    if alerting:
        converted["alerting"] = alerting
    notes = string_map(metadata.get("annotations"), "metadata.annotations")
    if isinstance(spec.get("description"), str):
        notes[DESCRIPTION_ANNOTATION] = spec["description"]
    return resource(source, name(slo_name), metadata.get("namespace"), converted, notes)


def _window(windows: Any) -> str:
    field = "spec.timeWindow"
    if not isinstance(windows, list) or len(windows) != 1 or not isinstance(windows[0], dict):
        raise Refused(field, "needs exactly one time window")
    window = windows[0]
    if window.get("isRolling") is not True or window.get("calendar"):
        raise Refused(
            f"{field}[0].isRolling",
            "calendar windows cannot be converted: sloalert's windows are rolling",
        )
    duration = str(window.get("duration", ""))
    if not duration or duration[-1] not in ROLLING_UNITS or not duration[:-1].isdigit():
        raise Refused(
            f"{field}[0].duration",
            f"{duration!r} cannot be converted: give minutes, hours, days or weeks (28d, 4w)",
        )
    return duration


def _objective(objectives: Any) -> float:
    field = "spec.objectives"
    if not isinstance(objectives, list) or len(objectives) != 1:
        raise Refused(field, "sloalert takes exactly one objective per SLO")
    objective = objectives[0]
    if not isinstance(objective, dict):
        raise Refused(f"{field}[0]", "must be a map")
    if "timeSliceTarget" in objective:
        raise Refused(f"{field}[0].timeSliceTarget", "time slices cannot be converted")
    if "targetPercent" in objective:
        return percent(objective["targetPercent"], f"{field}[0].targetPercent")
    if "target" in objective:
        return percent(objective["target"], f"{field}[0].target", scale=100)
    raise Refused(f"{field}[0].target", "required: target (0.999) or targetPercent (99.9)")


def _indicator(spec: dict[str, Any], named: dict[tuple[str, str], Any]) -> dict[str, Any]:
    if "indicator" in spec:
        field = "spec.indicator"
        sli = mapping(spec["indicator"], field)
    elif isinstance(spec.get("indicatorRef"), str):
        sli = named.get(("SLI", spec["indicatorRef"]))
        field = f"SLI {spec['indicatorRef']}"
        if sli is None:
            raise Refused("spec.indicatorRef", f"no SLI named {spec['indicatorRef']!r} was given")
    else:
        raise Refused("spec.indicator", "required: an indicator or an indicatorRef")
    sli_spec = mapping(sli.get("spec"), f"{field}.spec")
    if "thresholdMetric" in sli_spec:
        raise Refused(
            f"{field}.spec.thresholdMetric",
            "threshold metrics cannot be converted: sloalert's burn-rate SLIs count events; "
            "use a ratioMetric",
        )
    at = f"{field}.spec.ratioMetric"
    if sli_spec.get("ratioMetric") is None:
        raise Refused(at, "required: a ratio of Prometheus counters")
    ratio = mapping(sli_spec["ratioMetric"], at)
    if ratio.get("counter") is not True:
        raise Refused(f"{at}.counter", "must be true: sloalert reads counters over windows")
    if "raw" in ratio:
        raise Refused(f"{at}.raw", "raw ratios cannot be converted: give good or bad, and total")
    total = _selector(ratio.get("total"), f"{at}.total", named)
    if "bad" in ratio:
        bad = _selector(ratio.get("bad"), f"{at}.bad", named)
        return {"ratio": {"errors": bad, "total": total}}
    if "good" in ratio:
        good = _selector(ratio.get("good"), f"{at}.good", named)
        # With events but no good series yet (it appears with the first good event), no good
        # events is 0, taken from the total, so every event counts as bad.
        events = f"sum(rate({total}[{WINDOW_PLACEHOLDER}]))"
        return {
            "expression": (
                f"1 - (\n  (sum(rate({good}[{WINDOW_PLACEHOLDER}])) or 0 * {events})\n  /\n"
                f"  ({events} > 0)\n)"
            )
        }
    raise Refused(at, "needs good or bad, and total")


def _selector(part: Any, field: str, named: dict[tuple[str, str], Any]) -> str:
    """A Prometheus counter query: a plain selector (OpenSLO's queries name no window)."""
    at = f"{field}.metricSource"
    source = mapping(mapping(part, field).get("metricSource"), at)
    if not source:
        raise Refused(at, "required")
    kind, kind_field = source.get("type"), f"{at}.type"
    ref = source.get("metricSourceRef")
    if kind is None and ref is not None:
        # The type is the referenced DataSource's.
        kind_field = f"{at}.metricSourceRef"
        data_source = named.get(("DataSource", str(ref)))
        if data_source is None:
            raise Refused(kind_field, f"no DataSource named {ref!r} was given")
        kind = mapping(data_source.get("spec"), f"DataSource {ref}.spec").get("type")
    if str(kind or "").lower() != PROMETHEUS:
        raise Refused(
            kind_field,
            f"{kind or 'no type'} cannot be converted: sloalert reads Prometheus only",
        )
    query = mapping(source.get("spec"), f"{at}.spec").get("query")
    if not isinstance(query, str):
        raise Refused(f"{field}.metricSource.spec.query", "required: a counter selector")
    try:
        return str(parse_selector(query.strip()))
    except PromQLError as exc:
        raise Refused(f"{field}.metricSource.spec.query", f"{query.strip()!r} {exc}") from None


def _alerting(policies: Any, window: str, named: dict[tuple[str, str], Any]) -> dict[str, Any]:
    """Tiers from the policies' burn-rate conditions; none given: sloalert's defaults."""
    if not policies:
        return {}
    if not isinstance(policies, list):
        raise Refused("spec.alertPolicies", "must be a list")
    tiers: dict[str, dict[str, Any]] = {}
    no_data = False
    for index, entry in enumerate(policies):
        field = f"spec.alertPolicies[{index}]"
        policy = _resolve(entry, "AlertPolicy", "alertPolicyRef", field, named)
        spec = mapping(policy.get("spec"), f"{field}.spec")
        no_data = no_data or spec.get("alertWhenNoData") is True
        conditions = spec.get("conditions") or []
        if not isinstance(conditions, list):
            raise Refused(f"{field}.spec.conditions", "must be a list")
        for position, condition_entry in enumerate(conditions):
            at = f"{field}.spec.conditions[{position}]"
            condition = _resolve(condition_entry, "AlertCondition", "conditionRef", at, named)
            tier, settings = _tier(mapping(condition.get("spec"), f"{at}.spec"), window, at)
            tiers[tier] = {**tiers.get(tier, {}), **settings}
    converted: dict[str, Any] = {"noData": {"enabled": no_data}}
    for tier in (TIER_PAGE, TIER_TICKET):
        converted[tier] = tiers.get(tier, {"enabled": False})
    return converted


def _resolve(
    entry: Any, kind: str, ref_key: str, field: str, named: dict[tuple[str, str], Any]
) -> dict[str, Any]:
    """An inline object, or the document a `...Ref` (or a bare name) names."""
    ref = entry if isinstance(entry, str) else mapping(entry, field).get(ref_key)
    if isinstance(ref, str):
        found = named.get((kind, ref))
        if found is None:
            raise Refused(field, f"no {kind} named {ref!r} was given")
        return found
    if isinstance(entry, dict) and entry.get("kind") == kind:
        return entry
    raise Refused(field, f"must be an inline {kind} or a {ref_key}")


def _tier(condition: dict[str, Any], window: str, field: str) -> tuple[str, dict[str, Any]]:
    """The sloalert tier a burn-rate condition is one of the pairs of, with its settings."""
    at = f"{field}.spec.condition"
    rule = mapping(condition.get("condition"), at)
    if rule.get("kind") != "burnrate":
        raise Refused(f"{at}.kind", "only burnrate conditions can be converted")
    if rule.get("op") not in GREATER:
        raise Refused(f"{at}.op", "a burn-rate condition alerts above its threshold: gt or gte")
    threshold, lookback = rule.get("threshold"), str(rule.get("lookbackWindow", ""))
    try:
        lookback_ms = durations.parse_ms(lookback)
    except durations.DurationError as exc:
        raise Refused(f"{at}.lookbackWindow", str(exc)) from None
    if not isinstance(threshold, int | float):
        raise Refused(f"{at}.threshold", "required: a number, the burn rate")
    tiers = []
    for tier in (TIER_PAGE, TIER_TICKET):
        for pair in burnrate.conditions(tier, window):
            tiers.append(f"{number(pair.factor)}x over {pair.long} ({tier})")
            same_window = durations.parse_ms(pair.long) == lookback_ms
            if same_window and abs(pair.factor - float(threshold)) < 1e-6:
                settings: dict[str, Any] = {}
                if isinstance(condition.get("severity"), str):
                    settings["labels"] = {"severity": condition["severity"]}
                if rule.get("alertAfter"):
                    settings["for"] = str(rule["alertAfter"])
                return tier, settings
    raise Refused(
        at,
        f"{number(float(threshold))}x over {lookback} is none of sloalert's burn-rate "
        f"conditions for a {window} window: {', '.join(tiers)}",
    )
