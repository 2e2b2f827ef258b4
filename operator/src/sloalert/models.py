"""The SLOAlert resource as pydantic models: the shape and the rules the API server also enforces.

The CRD (`operator/crds/slo.fastdining.dev_sloalerts.yaml`) is the public source of truth and
carries the field documentation; these models mirror it field for field (camelCase aliases),
and a test holds the two together. Everything the CRD refuses (types, enums, bounds, patterns,
and its CEL rules) is refused here too; checks the API server cannot make (PromQL, bucket
boundaries, burn-rate arithmetic, templates) live in `validation.py`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from sloalert import conventions, durations

PresetName = Literal[
    "fastapi-availability",
    "fastapi-latency",
    "django-availability",
    "django-latency",
    "django-db-latency",
    "target-down",
    "node-cpu",
    "node-memory",
]
Mode = Literal["burnRate", "threshold"]
ThresholdTier = Literal["page", "ticket"]

Duration = Annotated[str, Field(min_length=1, pattern=durations.PATTERN)]
PromQL = Annotated[str, Field(min_length=1, max_length=4096)]
LabelValue = Annotated[str, Field(max_length=1024)]
AnnotationValue = Annotated[str, Field(max_length=4096)]
DEFAULT_WINDOW = "30d"
DEFAULT_NODATA_FOR = "10m"
DEFAULT_RATE_WINDOW = "5m"  # threshold mode: the range of rate() in presets and $window
DEFAULT_THRESHOLD_TIER = "ticket"
# Why an objective of 100 is refused. The CRD's CEL rule on spec.objective gives this very
# message, so `kubectl apply` and `sloalert validate` say the same.
OBJECTIVE_LEAVES_NO_BUDGET = (
    "an objective of 100 or more leaves no error budget: every single error would breach it, "
    "so no alert could be useful; use a value below 100, such as 99.9"
)

SERVICE_PATTERN = r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
NAME_PATTERN = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"  # Kubernetes object names (DNS subdomain)
# What each pattern means, for error messages.
PATTERN_MEANINGS = {
    durations.PATTERN: "a Prometheus duration, like 30s, 5m, 1h30m or 30d",
    SERVICE_PATTERN: "made of letters, digits, '-', '_' and '.', "
    "starting and ending with a letter or digit",
    NAME_PATTERN: "made of lower-case letters, digits, '-' and '.', "
    "starting and ending with a letter or digit",
    conventions.IDENTIFIER_PATTERN: "an identifier (letters, digits and '_', "
    "not starting with a digit)",
}

_LABEL_NAME = re.compile(conventions.IDENTIFIER_PATTERN)


def label_name_problem(name: str) -> str | None:
    """Why `name` cannot be a label (or annotation) key on an alert, or None if it can."""
    if not _LABEL_NAME.fullmatch(name):
        return (
            f"{name!r} is not a valid label name (letters, digits and _, not starting with a digit)"
        )
    if name in conventions.RESERVED_LABELS or name.startswith(conventions.RESERVED_LABEL_PREFIXES):
        return (
            f"{name!r} is reserved (Prometheus sets alertname and __*, sloalert sloalert_* and "
            "namespace: an alert is always about its SLOAlert's own namespace)"
        )
    return None


def _check_keys(keys: dict[str, str]) -> dict[str, str]:
    bad = [problem for key in keys if (problem := label_name_problem(key))]
    if bad:
        raise ValueError("; ".join(bad))
    return keys


# Maps carry bounds so the API server can cost its CEL rules over them.
Labels = Annotated[dict[str, LabelValue], Field(max_length=32), AfterValidator(_check_keys)]
AnnotationMap = Annotated[
    dict[str, AnnotationValue], Field(max_length=32), AfterValidator(_check_keys)
]


class Spec(BaseModel):
    """Base of every spec part: strict types (as the CRD's), unknown fields refused."""

    model_config = ConfigDict(strict=True, extra="forbid", populate_by_name=True, frozen=True)


class Preset(Spec):
    name: PresetName
    job: Annotated[str, Field(min_length=1, max_length=253)] | None = None
    threshold_seconds: Annotated[float, Field(gt=0)] | None = Field(
        default=None, alias="thresholdSeconds"
    )
    quantile: Annotated[float, Field(gt=0, lt=1)] | None = None


class Ratio(Spec):
    errors: PromQL
    total: PromQL


class Latency(Spec):
    histogram: PromQL
    threshold_seconds: Annotated[float, Field(gt=0)] = Field(alias="thresholdSeconds")


def _group_label_problem(name: str) -> str | None:
    if name == conventions.ALERT_NAMESPACE_LABEL:
        return (
            "namespace cannot group: every alert's namespace is its SLOAlert's own, so the "
            "groups' alerts could not be told apart; write one SLOAlert per namespace (in it), "
            "or group by another label"
        )
    return label_name_problem(name)


def _check_group_labels(names: list[str]) -> list[str]:
    bad = [problem for name in names if (problem := _group_label_problem(name))]
    if len(set(names)) != len(names):
        bad.append("each label may be given once")
    if bad:
        raise ValueError("; ".join(bad))
    return names


GroupLabels = Annotated[
    list[Annotated[str, Field(max_length=128)]],
    Field(min_length=1, max_length=10),
    AfterValidator(_check_group_labels),
]
GROUPED_KINDS = ("ratio", "latency")
# The CRD's CEL rule on spec.indicator gives this very message.
MAX_GROUPS_WITHOUT_GROUP_BY = (
    "maxGroups limits the groups of groupBy: give groupBy, or drop maxGroups"
)


class Indicator(Spec):
    preset: Preset | None = None
    ratio: Ratio | None = None
    latency: Latency | None = None
    expression: PromQL | None = None
    # One SLO per combination of these labels' values: each burns its own budget and alerts
    # on its own. Ratio and latency indicators only.
    group_by: GroupLabels | None = Field(default=None, alias="groupBy")
    # The series check's limit on the number of groups (conventions.DEFAULT_MAX_GROUPS).
    max_groups: Annotated[int, Field(ge=1, le=10000)] | None = Field(
        default=None, alias="maxGroups"
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> Indicator:
        given = [
            name for name in ("preset", "ratio", "latency", "expression") if getattr(self, name)
        ]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of preset, ratio, latency or expression"
                + (f" (got {', '.join(given)})" if given else " (got none)")
            )
        if self.group_by is not None and given[0] not in GROUPED_KINDS:
            raise ValueError(
                f"groupBy is only for ratio and latency indicators, and this one is {given[0]}"
            )
        if self.max_groups is not None and self.group_by is None:
            raise ValueError(MAX_GROUPS_WITHOUT_GROUP_BY)
        return self

    @property
    def kind(self) -> str:
        return next(
            name for name in ("preset", "ratio", "latency", "expression") if getattr(self, name)
        )


class Tier(Spec):
    """A burn-rate tier (page or ticket)."""

    enabled: bool = True
    for_: Duration | None = Field(default=None, alias="for")
    labels: Labels = Field(default_factory=dict)
    annotations: AnnotationMap = Field(default_factory=dict)


class NoData(Spec):
    enabled: bool = True
    for_: Duration = Field(default=DEFAULT_NODATA_FOR, alias="for")
    labels: Labels = Field(default_factory=dict)
    annotations: AnnotationMap = Field(default_factory=dict)


BURN_RATE_ONLY = ("page", "ticket", "min_rate")
THRESHOLD_ONLY = ("above", "below", "for_", "tier", "rate_window")


class Alerting(Spec):
    mode: Mode = "burnRate"
    name: Annotated[str, Field(max_length=128, pattern=conventions.IDENTIFIER_PATTERN)] | None = (
        None
    )
    no_data: NoData | None = Field(default=None, alias="noData")
    # burnRate mode
    page: Tier | None = None
    ticket: Tier | None = None
    min_rate: Annotated[float, Field(gt=0)] | None = Field(default=None, alias="minRate")
    # threshold mode
    above: float | None = None
    below: float | None = None
    for_: Duration | None = Field(default=None, alias="for")
    tier: ThresholdTier | None = None
    rate_window: Duration | None = Field(default=None, alias="rateWindow")

    @model_validator(mode="after")
    def _fields_fit_mode(self) -> Alerting:
        if self.mode == "threshold":
            if (self.above is None) == (self.below is None):
                raise ValueError("threshold mode needs exactly one of above or below")
            misplaced = [name for name in BURN_RATE_ONLY if getattr(self, name) is not None]
            other = "burnRate"
        else:
            misplaced = [name for name in THRESHOLD_ONLY if getattr(self, name) is not None]
            other = "threshold"
        if misplaced:
            aliases = " and ".join(_alias(type(self), name) for name in misplaced)
            verb = "is" if len(misplaced) == 1 else "are"
            raise ValueError(f"{aliases} {verb} only for {other} mode, and mode is {self.mode}")
        return self

    def enabled_tiers(self) -> list[str]:
        """The burn-rate tiers that alert, page first."""
        return [
            tier
            for tier, config in (
                (conventions.TIER_PAGE, self.page),
                (conventions.TIER_TICKET, self.ticket),
            )
            if config is None or config.enabled
        ]


class SLOAlertSpec(Spec):
    service: Annotated[
        str,
        Field(min_length=1, max_length=63, pattern=SERVICE_PATTERN),
    ]
    indicator: Indicator
    # Required in burnRate mode (validation.py); a note for readers in threshold mode.
    objective: float | None = None
    window: Duration = DEFAULT_WINDOW
    alerting: Alerting = Field(default_factory=Alerting)
    labels: Labels = Field(default_factory=dict)
    annotations: AnnotationMap = Field(default_factory=dict)

    @field_validator("objective")
    @classmethod
    def _objective_in_range(cls, value: float | None) -> float | None:
        if value is None:
            return value
        if value >= 100:
            raise ValueError(OBJECTIVE_LEAVES_NO_BUDGET)
        if value <= 0:
            raise ValueError(f"{value:g} is not a percentage above 0")
        return value


class ObjectMeta(BaseModel):
    """The parts of metadata sloalert reads; the rest (uid, generation, ...) is ignored."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    name: Annotated[str, Field(min_length=1, max_length=253, pattern=NAME_PATTERN)]
    namespace: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


class SLOAlert(BaseModel):
    """A resource as kubectl or kopf hands it over; status and other top-level keys are ignored."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    api_version: Literal[conventions.API_VERSION] = Field(alias="apiVersion")
    kind: Literal[conventions.KIND]
    metadata: ObjectMeta
    spec: SLOAlertSpec


def _alias(model: type[BaseModel], name: str) -> str:
    return model.model_fields[name].alias or name


def to_resource(slo: SLOAlert) -> dict[str, Any]:
    """The resource as a plain dict with the CRD's field names (defaults filled in)."""
    return slo.model_dump(by_alias=True, exclude_none=True, mode="json")
