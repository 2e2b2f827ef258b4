"""One run of the whole alert path on a running stack (`fdc_local.stack`): clean traffic, the
seed's `/boom` loops into both apps, the FastAPI availability page through Alertmanager and the
relay to Discord, then recovery and the resolved message. Returns what it saw, for the
pipeline test to assert on and the whole-path benchmark to report.

The SLOs keep their real 30d windows. The clean history is short (the seed's 300 + 200
requests), so the seed's 30 errors per app are far above the page's 14.4x burn over 1h and 5m
(1.44% errors). Recovery means diluting those errors below 0.6% of the requests in the last
30 minutes (the 6h/30m pair at 6x): clean traffic runs until Prometheus stops firing the page.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import yaml
from fdc_local.stack import Stack
from fdc_local.traffic import (
    DJANGO_CLEAN_PATHS,
    DJANGO_ERROR_PATH,
    FASTAPI_CLEAN_PATHS,
    FASTAPI_ERROR_PATH,
    Loop,
    LoopResult,
    run_together,
    throttled,
)
from sloalert.durations import parse_seconds

from testkit import bench_results, stack_config
from testkit.discord import Standin, validate_message
from testkit.kube import wait_for

PAGE_ALERT = "FastapiAvailability"
PAGE_SLO = "fastapi-availability"
# The seed's loops: 300 + 200 clean requests, then 30 errors per app.
HISTORY_FASTAPI = 300
HISTORY_DJANGO = 200
ERRORS_PER_APP = 30
# Both spread over several scrapes (1 s apart), one request at a time like the seed's curl
# loops: a counter series born between two scrapes with all its counts at once shows no rate.
HISTORY_PAUSE = 0.02
ERROR_PAUSE_SECONDS = 0.2
RECOVERY_MAX_REQUESTS = 40_000
RECOVERY_PARALLEL = 8
# Upper bounds only (the run stops as soon as it sees what it waits for): Alertmanager holds a
# page for its group_wait (10 s) and sends the resolution at the next group_interval (1 m).
PAGE_TIMEOUT_SECONDS = 120.0
RECOVERY_TIMEOUT_SECONDS = 240.0
RESOLVED_TIMEOUT_SECONDS = 150.0
# The budget groups are evaluated every 2m30s, the first time anywhere in that span.
RULES_TIMEOUT_SECONDS = 200.0

Record = dict[str, Any]
Log = Callable[[str], None]


@dataclass
class AlertPathRun:
    """What one run saw, in order."""

    targets: list[dict[str, Any]] = field(default_factory=list)
    history: list[LoopResult] = field(default_factory=list)
    errors: list[LoopResult] = field(default_factory=list)
    recovery: list[LoopResult] = field(default_factory=list)
    first_error_at: float = 0.0  # time.time() of the first /boom request
    page_fired: list[dict[str, Any]] = field(default_factory=list)  # Prometheus' alerts
    page_message: Record | None = None  # the stand-in's record of the first page message
    page_resolved_at: float = 0.0  # when Prometheus stopped firing the page
    resolved_message: Record | None = None
    # The ticket of the same SLO: Prometheus' alerts and Alertmanager's view of them, if it fired.
    ticket_fired: list[dict[str, Any]] = field(default_factory=list)
    ticket_in_alertmanager: list[dict[str, Any]] = field(default_factory=list)
    ticket_messages: list[Record] = field(default_factory=list)
    rule_problems: list[str] = field(default_factory=list)
    messages: list[Record] = field(default_factory=list)  # everything the stand-in accepted
    unauthenticated_status: int = 0  # the relay's answer to a notification without the token

    @property
    def first_error_to_discord_seconds(self) -> float | None:
        if self.page_message is None:
            return None
        return float(self.page_message["at"]) - self.first_error_at

    @property
    def resolved_message_delay_seconds(self) -> float | None:
        """From the page's end in Prometheus to its resolved message at Discord."""
        if self.resolved_message is None:
            return None
        return float(self.resolved_message["at"]) - self.page_resolved_at


def embeds(record: Record) -> list[dict[str, Any]]:
    return list(record["body"].get("embeds", []))


def field_value(embed: dict[str, Any], name: str) -> str | None:
    return next((f["value"] for f in embed.get("fields", []) if f["name"] == name), None)


def alert_embeds(record: Record, status: str, alertname: str, severity: str) -> list[dict]:
    """The message's embeds for `alertname` in `status` (FIRING, RESOLVED) with `severity`."""
    return [
        embed
        for embed in embeds(record)
        if embed.get("title") == f"[{status}] {alertname}"
        and field_value(embed, "Severity") == severity
    ]


def find_message(
    records: list[Record], status: str, alertname: str, severity: str
) -> Record | None:
    """The first accepted, valid message carrying that alert."""
    return next(
        (
            record
            for record in records
            if not validate_message(record["body"])
            and alert_embeds(record, status, alertname, severity)
        ),
        None,
    )


def drive_alert_path(stack: Stack, *, log: Log = print) -> AlertPathRun:
    """Run the scenario; every wait is bounded and raises with what was seen instead."""
    if stack.standin is None:
        raise ValueError("the alert path is observed at the Discord stand-in: start it with one")
    run = AlertPathRun()
    page, ticket = _severities(stack)
    run.targets = stack.prometheus.wait_for_targets_up(stack.jobs.values())
    log(f"targets up: {', '.join(sorted(t['scrapeUrl'] for t in run.targets))}")
    _clean_history(stack, run, log)
    _unauthenticated_notification(stack, run, log)
    _errors_until_paged(stack, stack.standin, run, log, page)
    _ticket_held_back(stack, run, log)
    _recovery_until_resolved(stack, stack.standin, run, log, page)
    stack.prometheus.wait_for_rule_evaluations(timeout=RULES_TIMEOUT_SECONDS)
    run.rule_problems = stack.prometheus.rule_problems()
    run.messages = stack.standin.accepted()
    run.ticket_messages = [
        record for record in run.messages if alert_embeds(record, "FIRING", PAGE_ALERT, ticket)
    ]
    return run


def _both_apps(
    stack: Stack, paths: tuple[Sequence[str], Sequence[str]], counts: tuple[int, int], pause: float
) -> list[LoopResult]:
    """One loop into FastAPI and one into Django, at the same time."""
    return run_together(
        [
            Loop(stack.fastapi.base_url, paths[0], counts[0], pause=pause),
            Loop(stack.django.base_url, paths[1], counts[1], pause=pause),
        ]
    )


def _clean_history(stack: Stack, run: AlertPathRun, log: Log) -> None:
    paths = (FASTAPI_CLEAN_PATHS, DJANGO_CLEAN_PATHS)
    run.history = _both_apps(stack, paths, (HISTORY_FASTAPI, HISTORY_DJANGO), HISTORY_PAUSE)
    log(f"clean history: {'; '.join(result.describe() for result in run.history)}")
    stack.prometheus.wait_for(
        "the FastAPI error ratio recorded from the clean traffic",
        lambda: stack.prometheus.query(f'slo:sli_error:ratio_rate5m{{sloalert_slo="{PAGE_SLO}"}}'),
        timeout=60,
    )


def _unauthenticated_notification(stack: Stack, run: AlertPathRun, log: Log) -> None:
    """A sender without the token, as a misconfigured Alertmanager or Grafana would be: the
    relay's refusals then have a series (its dashboard's refusal panel reads them), whichever
    test of the folder runs first."""
    response = httpx.post(f"{stack.relay.base_url}/alertmanager", json={}, timeout=10)
    run.unauthenticated_status = response.status_code
    log(f"a notification without the token: HTTP {response.status_code}")


def _errors_until_paged(
    stack: Stack, standin: Standin, run: AlertPathRun, log: Log, page: str
) -> None:
    paths = ([FASTAPI_ERROR_PATH], [DJANGO_ERROR_PATH])
    run.errors = _both_apps(stack, paths, (ERRORS_PER_APP, ERRORS_PER_APP), ERROR_PAUSE_SECONDS)
    run.first_error_at = min(r.first_sent_at for r in run.errors if r.first_sent_at is not None)
    log(f"errors: {'; '.join(result.describe() for result in run.errors)}")
    run.page_fired = stack.prometheus.wait_for(
        f"{PAGE_ALERT} (page) firing in Prometheus",
        lambda: stack.prometheus.firing(PAGE_ALERT, sloalert_tier="page"),
        timeout=PAGE_TIMEOUT_SECONDS,
    )
    log(f"{PAGE_ALERT} page firing in Prometheus after {time.time() - run.first_error_at:.1f} s")
    messages = standin.wait_for_accepted(
        lambda records: find_message(records, "FIRING", PAGE_ALERT, page) is not None,
        timeout=PAGE_TIMEOUT_SECONDS,
    )
    run.page_message = find_message(messages, "FIRING", PAGE_ALERT, page)
    log(f"page message at Discord {run.first_error_to_discord_seconds:.1f} s after the first error")


def _ticket_held_back(stack: Stack, run: AlertPathRun, log: Log) -> None:
    """The ticket fires from the same errors (3x over 1d and 2h): Alertmanager must hold it
    back while the page fires."""
    run.ticket_fired = stack.prometheus.firing(PAGE_ALERT, sloalert_tier="ticket")
    if not run.ticket_fired:
        return

    def processed() -> list[dict[str, Any]] | None:
        alerts = stack.alertmanager.alerts(alertname=PAGE_ALERT, sloalert_tier="ticket")
        done = alerts and all(a["status"]["state"] != "unprocessed" for a in alerts)
        return alerts if done else None

    run.ticket_in_alertmanager = wait_for(
        processed, what="the ticket processed by Alertmanager", timeout=60
    )
    log(f"ticket in Alertmanager: {[a['status'] for a in run.ticket_in_alertmanager]}")


def _recovery_until_resolved(
    stack: Stack, standin: Standin, run: AlertPathRun, log: Log, page: str
) -> None:
    prometheus = stack.prometheus
    stopped = throttled(lambda: not prometheus.firing(PAGE_ALERT, sloalert_tier="page"))
    recovery = Loop(
        stack.fastapi.base_url,
        FASTAPI_CLEAN_PATHS,
        RECOVERY_MAX_REQUESTS,
        parallel=RECOVERY_PARALLEL,
        max_seconds=RECOVERY_TIMEOUT_SECONDS,
    )
    run.recovery = run_together([recovery], stop=stopped)
    if prometheus.firing(PAGE_ALERT, sloalert_tier="page"):
        raise TimeoutError(
            f"{PAGE_ALERT} still fires after recovery traffic: {run.recovery[0].describe()}"
        )
    run.page_resolved_at = time.time()
    log(f"recovery: {run.recovery[0].describe()}; the page stopped firing in Prometheus")
    messages = standin.wait_for_accepted(
        lambda records: find_message(records, "RESOLVED", PAGE_ALERT, page) is not None,
        timeout=RESOLVED_TIMEOUT_SECONDS,
    )
    run.resolved_message = find_message(messages, "RESOLVED", PAGE_ALERT, page)
    delay = run.resolved_message_delay_seconds
    log(f"resolved message at Discord {delay:.1f} s after the page stopped firing")


def _severities(stack: Stack) -> tuple[str, str]:
    """The severity labels of the page and the ticket, as the rendered rules set them."""
    groups = yaml.safe_load(stack.rule_file.read_text(encoding="utf-8"))["groups"]
    by_tier = {
        rule["labels"]["sloalert_tier"]: rule["labels"]["severity"]
        for group in groups
        for rule in group["rules"]
        if rule.get("alert") == PAGE_ALERT
    }
    return by_tier["page"], by_tier["ticket"]


def page_route() -> dict[str, Any]:
    """The shipped Alertmanager route that takes pages (`sloalert_tier = "page"`)."""
    routes = stack_config.alertmanager_config()["route"].get("routes", [])
    for route in routes:
        if any("sloalert_tier" in m and '"page"' in m for m in route.get("matchers", [])):
            return route
    raise LookupError("the umbrella's Alertmanager config has no route for sloalert_tier page")


WHOLE_PATH_BENCH = "whole-path"


def whole_path_result(run: AlertPathRun) -> bench_results.BenchResult:
    """The whole-path figure for bench/RESULTS.md, next to the wait no run can beat."""
    seconds = run.first_error_to_discord_seconds
    if seconds is None:
        raise ValueError("the run saw no page message: there is no whole-path time")
    group_wait = parse_seconds(page_route()["group_wait"])
    notes = []
    if run.resolved_message_delay_seconds is not None:
        interval = page_route()["group_interval"]
        notes.append(
            f"resolved message {run.resolved_message_delay_seconds:.0f} s after the page stopped "
            f"firing in Prometheus (the page route's group_interval is {interval})"
        )
    return bench_results.BenchResult(
        bench=WHOLE_PATH_BENCH,
        figures=[
            bench_results.Figure(
                name="first /boom error to the page's message at Discord",
                value=seconds,
                unit="s",
                baseline=f"the page route's group_wait ({group_wait:g} s), which Alertmanager "
                "holds every new page for",
                target=None,
                detail=f"{seconds / group_wait:.2f}x the group_wait; Prometheus scrapes and "
                "evaluates every 1 s here (every 30 s in a cluster)",
            )
        ],
        notes=notes,
    )
