"""The whole alert path, for real, on loopback: a failing request becomes a Discord message.

Our four workloads from their rendered pods (the pod runner), node_exporter, Prometheus 3 with
the rules `sloalert render` makes of the SLOAlerts the umbrella ships, Alertmanager 0.33 with the
configuration kube-prometheus-stack renders (Service names mapped to addresses, nothing else),
and the Discord stand-in.
Prometheus scrapes and evaluates every 1 s (30 s in a cluster); nothing else is shortened. The
scenario (testkit.alert_path) runs once for the folder; each test checks one thing it saw.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fdc_local import rendered
from fdc_local.stack import NODE_EXPORTER_JOB, Stack, chart_job, render_rules
from testkit import bench_results, stack_config
from testkit.alert_path import (
    PAGE_ALERT,
    PAGE_SLO,
    WHOLE_PATH_BENCH,
    AlertPathRun,
    alert_embeds,
)
from testkit.discord import validate_message

# The first test also starts the stack and runs the scenario (about 3 minutes).
pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]


def test_every_target_is_up_with_the_job_label_its_chart_gives(
    stack: Stack, alert_path: AlertPathRun
) -> None:
    jobs = {target["labels"]["job"]: target["health"] for target in alert_path.targets}
    assert jobs == dict.fromkeys(stack.jobs.values(), "up")
    scraped = {chart_job("fastdining-api"), chart_job("airestaurant"), NODE_EXPORTER_JOB}
    assert scraped <= jobs.keys()


def test_each_workload_is_scraped_with_the_labels_its_rendered_servicemonitor_gives(
    stack: Stack, alert_path: AlertPathRun
) -> None:
    expected = {
        endpoint.service: endpoint.labels for endpoint in rendered.scrape_endpoints(stack.manifests)
    }
    scraped = {
        target["labels"]["service"]: {k: v for k, v in target["labels"].items() if k != "instance"}
        for target in alert_path.targets
        if "service" in target["labels"]
    }
    assert scraped == expected
    assert {labels["job"] for labels in expected.values()} >= {
        chart_job("fastdining-api"),
        chart_job("airestaurant"),
    }


def test_the_operator_accepts_every_shipped_sloalert(
    stack: Stack, alert_path: AlertPathRun
) -> None:
    [ready] = stack.prometheus.query('sloalert_sloalerts{ready="True"}')
    assert int(ready["value"][1]) == len(stack.sloalert_files)


def test_every_shipped_rule_group_loads_and_evaluates_without_error(
    stack: Stack, alert_path: AlertPathRun
) -> None:
    rendered = yaml.safe_load(stack.rule_file.read_text(encoding="utf-8"))["groups"]
    loaded = stack.prometheus.rule_groups()
    assert sorted(g["name"] for g in loaded) == sorted(g["name"] for g in rendered)
    assert sum(len(g["rules"]) for g in loaded) == sum(len(g["rules"]) for g in rendered)
    assert alert_path.rule_problems == []
    names = {stack_config.sloalert_name(path) for path in stack.sloalert_files}
    assert names == {stack_config.sloalert_name(p) for p in stack_config.shipped_sloalert_files()}


def test_prometheus_runs_the_rendered_rules_with_only_group_intervals_changed(
    stack: Stack, tmp_path: Path
) -> None:
    as_rendered = yaml.safe_load(
        render_rules(stack.sloalert_files, tmp_path / "rules.yaml").read_text(encoding="utf-8")
    )["groups"]
    loaded = yaml.safe_load(stack.rule_file.read_text(encoding="utf-8"))["groups"]
    shortened = [group["name"] for group in as_rendered if "interval" in group]
    assert shortened, "no group sets an interval: nothing to shorten"
    assert [g.get("interval") for g in loaded if g["name"] in shortened] == [
        stack.evaluation_interval
    ] * len(shortened)
    assert [{k: v for k, v in g.items() if k != "interval"} for g in loaded] == [
        {k: v for k, v in g.items() if k != "interval"} for g in as_rendered
    ]


def test_alertmanager_runs_the_rendered_config_with_only_service_names_changed(
    stack: Stack,
) -> None:
    config_file = stack.alertmanager.server.log_path.parent / "alertmanager.yml"
    running = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    shipped = rendered.alertmanager_config(stack.manifests)
    assert shipped == stack_config.alertmanager_config()  # the Secret renders the values as is
    changed = {
        path: (value, _flat(running).get(path))
        for path, value in _flat(shipped).items()
        if _flat(running).get(path) != value
    }
    assert _flat(running).keys() == _flat(shipped).keys()
    assert {path.rsplit(".", 1)[-1] for path in changed} == {"url"}
    relay = f"{stack.relay.host}:{stack.relay.port}"
    assert all(
        old.startswith(f"{stack_config.IN_CLUSTER_RELAY_URL}/") and f"//{relay}/" in new
        for old, new in changed.values()
    ), changed
    # And Alertmanager runs it: the routing it reports is the shipped one.
    status = httpx.get(f"{stack.alertmanager.base_url}/api/v2/status", timeout=10).json()
    loaded = yaml.safe_load(status["config"]["original"])
    assert loaded["route"]["group_by"] == shipped["route"]["group_by"]
    assert [_timers(r) for r in loaded["route"]["routes"]] == [
        _timers(r) for r in shipped["route"]["routes"]
    ]
    assert len(loaded["inhibit_rules"]) == len(shipped["inhibit_rules"])


def test_the_relay_refuses_a_notification_without_the_token(alert_path: AlertPathRun) -> None:
    """So the messages that did arrive came from Alertmanager with the token from its file."""
    assert alert_path.unauthenticated_status == 401


def test_the_fastapi_availability_page_fires_in_prometheus(alert_path: AlertPathRun) -> None:
    [alert] = alert_path.page_fired
    assert alert["labels"]["sloalert_slo"] == PAGE_SLO
    assert alert["labels"]["severity"] == "critical"
    assert float(alert["value"]) > 14.4  # the 1h/5m pair's burn factor


def test_the_stand_in_receives_a_valid_discord_message_naming_the_page(
    alert_path: AlertPathRun,
) -> None:
    message = alert_path.page_message
    assert message is not None
    assert validate_message(message["body"]) == {}
    [embed] = alert_embeds(message, "FIRING", PAGE_ALERT, "critical")
    assert PAGE_SLO in embed["description"]
    assert "(page)" in embed["description"]
    assert alert_path.first_error_to_discord_seconds > 0


def test_the_ticket_of_the_same_slo_is_inhibited_while_the_page_fires(
    alert_path: AlertPathRun,
) -> None:
    # 30 errors in a few hundred requests burn far above the ticket's 3x over 1d and 2h too.
    assert alert_path.ticket_fired, "the scenario's errors should fire the ticket as well"
    assert alert_path.ticket_in_alertmanager
    for alert in alert_path.ticket_in_alertmanager:
        assert alert["status"]["state"] == "suppressed"
        assert alert["status"]["inhibitedBy"]
    early = [m for m in alert_path.ticket_messages if m["at"] < alert_path.page_resolved_at]
    assert early == [], "a ticket message reached Discord while its page was firing"


def test_the_resolved_message_follows_after_recovery(alert_path: AlertPathRun) -> None:
    resolved, page = alert_path.resolved_message, alert_path.page_message
    assert resolved is not None and page is not None
    assert validate_message(resolved["body"]) == {}
    assert resolved["at"] > alert_path.page_resolved_at > page["at"]
    assert alert_embeds(resolved, "RESOLVED", PAGE_ALERT, "critical")


def test_the_whole_path_time_is_written_for_the_bench_report(alert_path: AlertPathRun) -> None:
    [result] = [r for r in bench_results.read_all() if r.bench == WHOLE_PATH_BENCH]
    assert result.figures[0].value == pytest.approx(alert_path.first_error_to_discord_seconds)


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    """`{"a": {"b": [1]}}` -> `{"a.b.0": 1}`: every leaf by its path."""
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return {prefix: value}
    flat: dict[str, Any] = {}
    for key, item in items:
        flat |= _flat(item, f"{prefix}.{key}" if prefix else str(key))
    return flat


def _timers(route: dict) -> tuple:
    return tuple(route.get(key) for key in ("group_wait", "group_interval", "repeat_interval"))
