"""Errors driven into both apps raise their availability pages, which reach the Discord stand-in
through Alertmanager and the relay; healthy traffic afterwards resolves them, and the resolved
messages follow the same way.

Burn-rate arithmetic (fastapi-availability and django-availability: 99.9% over 30d): the page
fires above 14.4x over 1h and 5m, or 6x over 6h and 30m. ERRORS failed requests on an idle app
burn far above that; resolving needs both short windows below their factor, so at least
ERRORS * (1 / (6 * 0.001) - 1) good requests afterwards (about 166 per error): GOOD is more.

A counter's first sample counts as no increase, and the 5xx series only exist once a request has
failed: PRIMING errors first, and the real ones once Prometheus has scraped those series.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from fdc_make import budgets
from sloalert import exporters
from testkit.discord import Standin
from testkit.kube import wait_for

from .cluster import Cluster

PRIMING = 2
ERRORS = 30
GOOD = 8000
# Each app's 5xx series, under the job label its chart sets.
ERROR_SERIES = {
    "fastdining-api": f'{exporters.FASTAPI_REQUESTS.name}{{job="fastapi",status="5xx"}}',
    "airestaurant": f'{exporters.DJANGO_RESPONSES.name}{{job="django",status=~"5.."}}',
}
# component chart: (page alert name, failing URL, healthy URL), both in the app's own pod.
APPS = {
    "fastdining-api": (
        "FastapiAvailability",
        "http://localhost:8000/boom",
        "http://localhost:8000/ping",
    ),
    "airestaurant": (
        "DjangoAvailability",
        "http://localhost:8900/boom/",
        "http://localhost:8900/ping",
    ),
}


def _page_embeds(standin: Standin, status: str, alert: str) -> list[dict[str, Any]]:
    """Embeds of accepted messages saying `[STATUS] alert` for the page tier."""
    return [
        embed
        for record in standin.accepted()
        for embed in record["body"].get("embeds", [])
        if embed.get("title", "").startswith(f"[{status}] {alert}")
        and "(page)" in json.dumps(embed)
    ]


def _drive(cluster: Cluster, requests: dict[str, tuple[str, int]]) -> dict[str, int]:
    """The requests of every app at once, from inside its pod; failures counted per app."""
    with ThreadPoolExecutor(len(requests)) as pool:
        futures = {
            app: pool.submit(cluster.requests, app, url, count)
            for app, (url, count) in requests.items()
        }
        return {app: future.result() for app, future in futures.items()}


def _series(prometheus: str, query: str) -> list[dict[str, Any]]:
    result = httpx.get(f"{prometheus}/api/v1/query", params={"query": query}, timeout=10)
    return result.raise_for_status().json()["data"]["result"]


def _scraped_jobs(prometheus: str) -> set[str]:
    up = _series(prometheus, 'up{job=~"fastapi|django"} == 1')
    return {sample["metric"]["job"] for sample in up}


@pytest.mark.timeout(budgets.ALERT_TEST)
def test_errors_page_through_the_relay_and_resolve(
    cluster: Cluster, standin: Standin, prometheus: str
) -> None:
    wait_for(
        lambda: _scraped_jobs(prometheus) == {"fastapi", "django"},
        what="both apps scraped under the job labels the SLO presets read",
        timeout=budgets.SCRAPE,
    )
    _drive(cluster, {app: (boom, PRIMING) for app, (_, boom, _) in APPS.items()})
    for app, series in ERROR_SERIES.items():
        wait_for(
            lambda series=series: _series(prometheus, series),
            what=f"Prometheus scraping {app}'s first 5xx",
            timeout=budgets.SCRAPE,
        )

    failed = _drive(cluster, {app: (boom, ERRORS) for app, (_, boom, _) in APPS.items()})
    assert failed == dict.fromkeys(APPS, ERRORS), f"/boom must fail every time: {failed}"
    for app, (alert, _, _) in APPS.items():
        wait_for(
            lambda alert=alert: _page_embeds(standin, "FIRING", alert),
            what=f"the stand-in receiving {alert} (page) firing, from {app}",
            timeout=budgets.FIRST_PAGE,
        )

    failed = _drive(cluster, {app: (ok, GOOD) for app, (_, _, ok) in APPS.items()})
    assert failed == dict.fromkeys(APPS, 0), f"healthy requests failed: {failed}"
    for app, (alert, _, _) in APPS.items():
        wait_for(
            lambda alert=alert: _page_embeds(standin, "RESOLVED", alert),
            what=f"the stand-in receiving {alert} (page) resolved, from {app}",
            timeout=budgets.RESOLVE,
        )
