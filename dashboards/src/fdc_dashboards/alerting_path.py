"""Operator and relay: the alerting path's own metrics, because a path nobody watches fails
silently (rules not written, notifications not delivered).

The names are those `sloalert.operator.metrics` and `discord_relay.metrics` register (a test
reads both registries); counters are scraped with their `_total` suffix.
"""

from __future__ import annotations

from typing import Final

from grafana_foundation_sdk.builders import dashboard, timeseries
from sloalert import exporters
from sloalert.promql import Matcher, Selector

from fdc_dashboards import panels
from fdc_dashboards.panels import RATE_INTERVAL

UID: Final = "fdc-alerting-path"

# sloalert-operator (sloalert/operator/metrics.py)
OPERATOR_RECONCILES: Final = "sloalert_reconciles_total"  # outcome: applied, invalid, failed
OPERATOR_RECONCILE_SECONDS: Final = "sloalert_reconcile_duration_seconds_bucket"
OPERATOR_DRIFT_REPAIRS: Final = "sloalert_drift_repairs_total"
OPERATOR_SLOALERTS: Final = "sloalert_sloalerts"  # ready: True, False, Unknown
# discord-relay (discord_relay/metrics.py)
RELAY_NOTIFICATIONS: Final = "discord_relay_notifications_total"  # source, code
RELAY_REQUESTS: Final = "discord_relay_discord_requests_total"  # sink, outcome
RELAY_RETRIES: Final = "discord_relay_discord_retries_total"
RELAY_ALREADY_DELIVERED: Final = "discord_relay_parts_already_delivered_total"
RELAY_DELIVERY_SECONDS: Final = "discord_relay_delivery_seconds_bucket"  # source

METRICS: Final = (
    OPERATOR_RECONCILES,
    OPERATOR_RECONCILE_SECONDS,
    OPERATOR_DRIFT_REPAIRS,
    OPERATOR_SLOALERTS,
    RELAY_NOTIFICATIONS,
    RELAY_REQUESTS,
    RELAY_RETRIES,
    RELAY_ALREADY_DELIVERED,
    RELAY_DELIVERY_SECONDS,
)


def _selector(metric: str, *more: Matcher) -> Selector:
    return Selector(metric, (panels.namespace_matcher(), *more))


def _rate(metric: str, *more: Matcher) -> str:
    return f"rate({_selector(metric, *more).over(RATE_INTERVAL)})"


def _graph(title: str, description: str, unit: str, *targets: tuple[str, str]) -> timeseries.Panel:
    panel = panels.graph(title, description, unit)
    for ref, (expr, legend) in zip("ABCDEFGH", targets, strict=False):
        panel = panel.with_target(panels.query(expr, legend).ref_id(ref))
    return panel


def _or_zero(expr: str) -> str:
    # A labelled counter appears only once something happened: no refusal yet reads as 0.
    return f"{expr} or vector(0)"


def reconciles() -> timeseries.Panel:
    return _graph(
        "Reconciles by outcome",
        "SLOAlert reconciliations per second: applied (rules written), invalid (the spec was "
        "refused; Ready=False InvalidSpec) and failed (the API refused a write; retried).",
        "ops",
        (f"sum by (outcome) ({_rate(OPERATOR_RECONCILES)})", "{{outcome}}"),
    )


def failures_and_repairs() -> timeseries.Panel:
    failed = Matcher("outcome", "=", "failed")
    return _graph(
        "Failures and drift repairs",
        "Reconciles that failed (the rule or the status could not be written), and "
        "PrometheusRules the operator put back after someone edited or deleted them, per second.",
        "ops",
        (f"sum({_rate(OPERATOR_RECONCILES, failed)})", "failed reconciles"),
        (f"sum({_rate(OPERATOR_DRIFT_REPAIRS)})", "drift repairs"),
    )


def reconcile_latency() -> timeseries.Panel:
    return _graph(
        "Reconcile duration p95",
        "95th percentile of one reconcile: generate the rules, apply the PrometheusRule, write "
        "the status.",
        "s",
        (
            f"histogram_quantile(0.95, sum by (le) ({_rate(OPERATOR_RECONCILE_SECONDS)}))",
            "p95",
        ),
    )


def sloalerts_ready() -> timeseries.Panel:
    return _graph(
        "SLOAlerts by Ready",
        "SLOAlerts by the Ready condition of their last reconcile: False means their rules are "
        "not (or no longer) what the spec asks; Unknown, the status could not be written.",
        "short",
        (f"sum by (ready) ({_selector(OPERATOR_SLOALERTS)})", "Ready={{ready}}"),
    )


def notifications_in() -> timeseries.Panel:
    return _graph(
        "Notifications in",
        "Webhook notifications the relay received per second, by endpoint (alertmanager, "
        "grafana) and the HTTP status it answered.",
        "reqps",
        (f"sum by (source, code) ({_rate(RELAY_NOTIFICATIONS)})", "{{source}} {{code}}"),
    )


def messages_out() -> timeseries.Panel:
    return _graph(
        "Messages out",
        "Requests to Discord (or the log sink) per second, by outcome: ok, rate_limited, "
        "server_error, timeout, connection_error, rejected.",
        "reqps",
        (f"sum by (sink, outcome) ({_rate(RELAY_REQUESTS)})", "{{sink}} {{outcome}}"),
    )


def retries_and_refusals() -> timeseries.Panel:
    refused_in = Matcher("code", "!~", "2..")
    rejected_out = Matcher("outcome", "=", "rejected")
    return _graph(
        "Retries and refusals",
        "Requests to Discord repeated (after a 429, a 5xx, a timeout or a refused connection), "
        "notifications the relay refused (answered other than 2xx), messages Discord rejected, "
        "and messages not posted twice because a retried notification had delivered them.",
        "ops",
        (f"sum({_rate(RELAY_RETRIES)})", "retries"),
        (_or_zero(f"sum({_rate(RELAY_NOTIFICATIONS, refused_in)})"), "refused in"),
        (_or_zero(f"sum({_rate(RELAY_REQUESTS, rejected_out)})"), "rejected by Discord"),
        (f"sum({_rate(RELAY_ALREADY_DELIVERED)})", "already delivered"),
    )


def delivery_latency() -> timeseries.Panel:
    return _graph(
        "Delivery duration p95",
        "95th percentile of delivering one notification, all its messages and retries "
        "included, by source.",
        "s",
        (
            f"histogram_quantile(0.95, sum by (le, source) ({_rate(RELAY_DELIVERY_SECONDS)}))",
            "{{source}}",
        ),
    )


def build() -> dashboard.Dashboard:
    return (
        dashboard.Dashboard("Operator and relay")
        .uid(UID)
        .description("The SLOAlert operator's and the Discord relay's own metrics.")
        .tags(["fastdining", "alerting"])
        .time("now-6h", "now")
        .refresh("30s")
        .with_variable(panels.datasource_variable())
        .with_variable(
            panels.namespace_variable(
                f"label_values({exporters.UP.name}, namespace)",
                "The namespace the operator and the relay run in; All also matches series "
                "without a namespace label.",
            )
        )
        .with_row(dashboard.Row("SLOAlert operator"))
        .with_panel(reconciles())
        .with_panel(failures_and_repairs())
        .with_panel(reconcile_latency())
        .with_panel(sloalerts_ready())
        .with_row(dashboard.Row("Discord relay"))
        .with_panel(notifications_in())
        .with_panel(messages_out())
        .with_panel(retries_and_refusals())
        .with_panel(delivery_latency())
    )
