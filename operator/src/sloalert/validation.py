"""From a resource (a dict, as kubectl or kopf hands it over) to a checked SLOAlert.

Two passes: the models check the shape (what the CRD also checks at the API server), then the
semantic checks here find what only sloalert can know (PromQL, presets' buckets, burn-rate
arithmetic, label and annotation templates). Every problem names its field; pydantic's own
errors never leak out raw.
"""

from __future__ import annotations

import types
from collections.abc import Iterator, Mapping
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from sloalert import burnrate, durations, indicators, sli, templates
from sloalert.errors import InvalidSLOAlert, Problem
from sloalert.models import PATTERN_MEANINGS, NoData, SLOAlert, SLOAlertSpec, Tier

ROOT_FIELD = "resource"


def load(resource: Mapping[str, Any]) -> SLOAlert:
    """Parse and check a resource; raises InvalidSLOAlert listing every problem found."""
    try:
        slo = SLOAlert.model_validate(plain(resource))
    except ValidationError as exc:
        raise InvalidSLOAlert(_from_pydantic(exc)) from None
    found = list(problems(slo.spec))
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
    yield from _template_problems(spec)


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


def _template_problems(spec: SLOAlertSpec) -> Iterator[Problem]:
    """Values Prometheus cannot expand: one broken template fails the whole rule file, which
    the API server cannot see (to it they are plain strings)."""
    for field, values in _templated(spec):
        for key, text in values.items():
            why = templates.problem(text)
            if why is not None:
                yield Problem(f"{field}.{key}", f"is not a valid Prometheus template: {why}")


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
