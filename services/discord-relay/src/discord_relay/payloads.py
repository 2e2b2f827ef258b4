"""What Alertmanager (webhook version 4) and Grafana (unified alerting, version 1) post to us.

Lenient on extra fields (both senders add fields over time, e.g. Alertmanager 0.33's
`notification_reason`), strict on the shape of the fields we use: a label that is not a string or
an `alerts` that is not a list is refused with the path of the bad field. Numbers are strict
too: both senders are Go programs writing JSON numbers (`truncatedAlerts` a uint64, `orgId` an
int64, Grafana's `values` float64), so `true` or `"7"` there is a broken sender or template,
refused rather than read as 1 or 7; the published schema and the relay then agree (JSON
Schema's integer admits 7.0, so that is read as 7).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
)


def _integral(value: object) -> object:
    return int(value) if isinstance(value, float) and value.is_integer() else value


# JSON Schema's integer: 7 or 7.0, never true or "7".
JsonInt = Annotated[StrictInt, BeforeValidator(_integral)]


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class Alert(_Lenient):
    status: StrictStr
    labels: dict[StrictStr, StrictStr]
    annotations: dict[StrictStr, StrictStr] = Field(default_factory=dict)
    # Kept as the sender's text: they feed the deduplication key, which must not change with
    # parsing details (Alertmanager sends nanoseconds, Grafana milliseconds).
    starts_at: StrictStr = Field(default="", alias="startsAt")
    ends_at: StrictStr = Field(default="", alias="endsAt")
    generator_url: StrictStr = Field(default="", alias="generatorURL")
    fingerprint: StrictStr = ""

    @property
    def name(self) -> str:
        return self.labels.get("alertname", "") or "alert"


class AlertmanagerNotification(_Lenient):
    version: StrictStr = "4"
    status: StrictStr
    receiver: StrictStr = ""
    alerts: list[Alert]
    group_key: StrictStr = Field(default="", alias="groupKey")
    group_labels: dict[StrictStr, StrictStr] = Field(default_factory=dict, alias="groupLabels")
    common_labels: dict[StrictStr, StrictStr] = Field(default_factory=dict, alias="commonLabels")
    common_annotations: dict[StrictStr, StrictStr] = Field(
        default_factory=dict, alias="commonAnnotations"
    )
    external_url: StrictStr = Field(default="", alias="externalURL")
    truncated_alerts: JsonInt = Field(default=0, ge=0, alias="truncatedAlerts")


class GrafanaAlert(Alert):
    values: dict[StrictStr, StrictFloat | None] | None = None
    value_string: StrictStr = Field(default="", alias="valueString")
    dashboard_url: StrictStr = Field(default="", alias="dashboardURL")
    panel_url: StrictStr = Field(default="", alias="panelURL")
    silence_url: StrictStr = Field(default="", alias="silenceURL")


class GrafanaNotification(AlertmanagerNotification):
    """Grafana's payload is Alertmanager's plus a few fields, all optional here, so an
    Alertmanager payload posted to /grafana is accepted as it is."""

    alerts: list[GrafanaAlert]  # type: ignore[assignment]
    title: StrictStr = ""
    state: StrictStr = ""
    message: StrictStr = ""
    org_id: JsonInt | None = Field(default=None, alias="orgId")
