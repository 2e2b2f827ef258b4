"""What Alertmanager (webhook version 4) and Grafana (unified alerting, version 1) post to us.

Lenient on extra fields (both senders add fields over time, e.g. Alertmanager 0.33's
`notification_reason`), strict on the shape of the fields we use: a label that is not a string or
an `alerts` that is not a list is refused with the path of the bad field.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictStr


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
    truncated_alerts: int = Field(default=0, ge=0, alias="truncatedAlerts")


class GrafanaAlert(Alert):
    values: dict[StrictStr, float | None] | None = None
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
    org_id: int | None = Field(default=None, alias="orgId")
