"""From a resource (a dict, as kubectl or kopf hands it over) to a checked SLOAlert.

Two passes: the models check the shape (what the CRD also checks at the API server), then the
semantic checks here find what only sloalert can know (PromQL, presets' buckets, burn-rate
arithmetic, label and annotation templates). Every problem names its field; pydantic's own
errors never leak out raw.
"""

from __future__ import annotations

import types
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from sloalert import burnrate, conventions, durations, indicators, sli, templates
from sloalert.errors import InvalidSLOAlert, Problem
from sloalert.models import (
    PATTERN_MEANINGS,
    Alerting,
    Indicator,
    Mode,
    NoData,
    SLOAlert,
    SLOAlertSpec,
    Spec,
    Tier,
)

ROOT_FIELD = "resource"


def load(resource: Mapping[str, Any]) -> SLOAlert:
    """Parse and check a resource; raises InvalidSLOAlert listing every problem found.

    Shape, semantic and template problems come together, so one run names them all: when the
    shape is wrong, the parts that are well-shaped on their own (the indicator with its
    alerting, the label and annotation templates, the alert name) are still checked.
    """
    body = plain(resource)
    try:
        slo = SLOAlert.model_validate(body)
    except ValidationError as exc:
        shape = _from_pydantic(exc)
        raise InvalidSLOAlert(shape + _salvaged_problems(body, shape)) from None
    found = [*problems(slo.spec), *_alert_name_problems(slo.metadata.name, slo.spec.alerting.name)]
    if found:
        raise InvalidSLOAlert(found)
    return slo


def plain(value: Any) -> Any:
    """A deep copy as plain dicts and lists all the way down: kopf hands over Mapping views,
    and the strict spec models (strict like the CRD) accept only real dicts."""
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def problems(spec: SLOAlertSpec) -> Iterator[Problem]:
    """What makes a well-shaped spec impossible to turn into working rules."""
    alerting = spec.alerting
    yield from indicators.problems(spec.indicator, alerting)
    if durations.parse_ms(spec.window) == 0:
        yield Problem("spec.window", "must be longer than 0")
    if alerting.rate_window is not None and durations.parse_ms(alerting.rate_window) == 0:
        yield Problem("spec.alerting.rateWindow", "must be longer than 0")
    if alerting.mode == "burnRate":
        yield from _burn_rate_problems(spec)
    no_data = alerting.no_data
    if no_data is not None and durations.parse_ms(no_data.for_) >= durations.parse_ms(spec.window):
        yield Problem(
            "spec.alerting.noData.for",
            f"must be shorter than spec.window ({spec.window}): the no-data alert fires for "
            "series that vanished within the SLO's window",
        )
    yield from _template_problems(_templated(spec))


def _alert_name_problems(name: str, alert_name: Any) -> Iterator[Problem]:
    """An alert named like one of kube-prometheus-stack's would join its inhibit rules and
    routes (a critical KubePodCrashLooping mutes the warning one, InfoInhibitor mutes info).
    `alert_name` is spec.alerting.name as given (checked on its own: the rest of
    spec.alerting may be badly shaped)."""
    given = alert_name if isinstance(alert_name, str) and alert_name else None
    alert = given or conventions.default_alert_name(name)
    if alert in conventions.KUBE_PROMETHEUS_STACK_ALERTS:
        field = "spec.alerting.name" if given else "metadata.name"
        yield Problem(
            field,
            f"the alert name {alert} is one of kube-prometheus-stack's own alerts, whose inhibit "
            "rules and routes would apply to it: choose another (spec.alerting.name)",
        )


def _salvaged_problems(body: Any, shape: list[Problem]) -> list[Problem]:
    """The semantic problems of the parts of a badly shaped resource that are well shaped."""
    spec = body.get("spec") if isinstance(body, dict) else None
    if not isinstance(spec, dict):
        return []
    found: list[Problem] = []
    raw_alerting = spec.get("alerting", {})
    raw_alerting = raw_alerting if isinstance(raw_alerting, dict) else {}
    alerting = _part(Alerting, raw_alerting) or _mode_only(raw_alerting)
    indicator = _part(Indicator, spec.get("indicator"))
    if indicator is not None:
        found += indicators.problems(indicator, alerting)
    metadata = body.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    if isinstance(name, str):
        found += _alert_name_problems(name, raw_alerting.get("name"))
    found += _template_problems(_raw_templated(spec))
    reported = {problem.field for problem in shape}
    return [problem for problem in found if problem.field not in reported]


def _mode_only(raw: dict[str, Any]) -> Alerting:
    """A badly shaped spec.alerting, reduced to its mode (what the indicator's checks read),
    so the indicator is still checked as it will be used."""
    mode = raw.get("mode")
    return Alerting.model_construct(mode=mode if mode in get_args(Mode) else "burnRate")


def _part(model: type[Spec], value: Any) -> Any:
    try:
        return model.model_validate(value)
    except ValidationError:
        return None


def _burn_rate_problems(spec: SLOAlertSpec) -> Iterator[Problem]:
    alerting = spec.alerting
    tiers = alerting.enabled_tiers()
    if not tiers:
        yield Problem(
            "spec.alerting",
            "both the page and the ticket tier are off, so burnRate mode would alert on nothing",
        )
    if spec.objective is None:
        yield Problem("spec.objective", "burnRate mode needs an objective (percent, e.g. 99.9)")
    elif durations.parse_ms(spec.window) > 0:
        yield from burnrate.problems(tiers, spec.objective, spec.window)
    if alerting.min_rate is not None and spec.indicator.kind in {"expression", "preset"}:
        built = _try_build(spec)
        if built is not None and not sli.has_total(built):
            yield Problem(
                "spec.alerting.minRate",
                "this indicator has no count of all events to compare with minRate: use a "
                "preset with traffic, ratio or latency",
            )


def _template_problems(maps: Iterable[tuple[str, Mapping[str, Any]]]) -> Iterator[Problem]:
    """Values Prometheus cannot expand: one broken template fails the whole rule file, which
    the API server cannot see (to it they are plain strings)."""
    for field, values in maps:
        for key, text in values.items():
            why = templates.alert_problem(text) if isinstance(text, str) else None
            if why is not None:
                yield Problem(f"{field}.{key}", why)


def _raw_templated(spec: dict[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """`_templated` over a resource that did not parse: every map that is a map."""
    alerting = spec.get("alerting")
    parts: dict[str, Any] = {"spec": spec}
    if isinstance(alerting, dict):
        for tier in ("page", "ticket", "noData"):
            parts[f"spec.alerting.{tier}"] = alerting.get(tier)
    for field, part in parts.items():
        if isinstance(part, dict):
            for kind in ("labels", "annotations"):
                if isinstance(part.get(kind), dict):
                    yield f"{field}.{kind}", part[kind]


def _templated(spec: SLOAlertSpec) -> Iterator[tuple[str, Mapping[str, str]]]:
    """Every label and annotation map that ends up on an alert, with its field."""
    alerting = spec.alerting
    parts: dict[str, SLOAlertSpec | Tier | NoData | None] = {
        "spec": spec,
        "spec.alerting.page": alerting.page,
        "spec.alerting.ticket": alerting.ticket,
        "spec.alerting.noData": alerting.no_data,
    }
    for field, part in parts.items():
        if part is not None:
            yield f"{field}.labels", part.labels
            yield f"{field}.annotations", part.annotations


def _try_build(spec: SLOAlertSpec) -> sli.SLI | None:
    try:
        return indicators.build(spec.indicator)
    except ValueError:
        return None  # already reported by indicators.problems


# --- pydantic errors as Problems ----------------------------------------------------------


def _from_pydantic(exc: ValidationError) -> list[Problem]:
    found = []
    for error in exc.errors(include_url=False):
        loc = [str(part) for part in error["loc"]]
        field = ".".join(loc) or ROOT_FIELD
        found.append(Problem(field, _message(error, loc)))
    return found


def _message(error: Any, loc: list[str]) -> str:
    kind = error["type"]
    if kind == "missing":
        return "required"
    if kind == "extra_forbidden":
        allowed = _allowed_fields(loc[:-1])
        return f"unknown field {loc[-1]!r}" + (
            f"; allowed: {', '.join(allowed)}" if allowed else ""
        )
    if kind in {"model_type", "model_attributes_type", "dict_type"}:
        return "must be a mapping"
    if kind == "string_pattern_mismatch":
        pattern = error.get("ctx", {}).get("pattern", "")
        meaning = PATTERN_MEANINGS.get(pattern, f"a match for {pattern}")
        return f"{error['input']!r} must be {meaning}"
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind.endswith("_type") or kind.startswith("literal"):
        message += f", not {error['input']!r}"
    return message


def _allowed_fields(loc: list[str]) -> list[str]:
    """The field names (CRD spelling) of the model at `loc`, or [] if it is not a model."""
    model: Any = SLOAlert
    for part in loc:
        model = _model_of_field(model, part)
        if model is None:
            return []
    return [field.alias or name for name, field in model.model_fields.items()]


def _model_of_field(model: type[BaseModel], alias: str) -> type[BaseModel] | None:
    for name, field in model.model_fields.items():
        if (field.alias or name) == alias:
            candidates = [field.annotation]
            if get_origin(field.annotation) in {Union, types.UnionType}:
                candidates = list(get_args(field.annotation))
            for candidate in candidates:
                if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                    return candidate
    return None
