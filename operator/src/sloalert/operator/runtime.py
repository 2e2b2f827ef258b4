"""The operator's parts, built when kopf starts and closed when it stops."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import kopf

from sloalert.adapters.prometheus_api import PrometheusAPI
from sloalert.operator import bridge
from sloalert.operator.kube import Kube
from sloalert.operator.metrics import OperatorMetrics
from sloalert.operator.reconcile import Reconciler
from sloalert.operator.series_watch import SeriesWatch
from sloalert.operator.settings import OperatorSettings, load_settings

# Objects per page of kopf's listings, and how long an object's idle worker lives on.
LIST_CHUNK = 100
WORKER_IDLE_SECONDS = 0.5


@dataclass
class Parts:
    settings: OperatorSettings
    kube: Kube
    metrics: OperatorMetrics
    reconciler: Reconciler
    sloalerts: bridge.SLOAlertStore
    series: SeriesWatch | None = None
    """The SeriesFound check; None without SLOALERT_PROMETHEUS_URL."""
    prometheus: PrometheusAPI | None = None


def start(memo: kopf.Memo, kopf_settings: kopf.OperatorSettings) -> Parts:
    """Build the parts into `memo` (kopf shares it with every handler) and tune kopf."""
    settings = memo.get("settings") or load_settings()
    tune(kopf_settings, settings)
    quiet_http_logs()
    kube = Kube.from_environment()
    metrics = OperatorMetrics()
    metrics.serve(settings.listen_host, settings.metrics_port)
    reconciler = Reconciler(
        kube,
        settings,
        metrics,
        on_unselected=bridge.warn_unselected,
        on_repaired=bridge.announce_repair,
    )
    parts = Parts(settings, kube, metrics, reconciler, bridge.SLOAlertStore())
    if settings.prometheus_url:
        parts.prometheus = PrometheusAPI(
            settings.prometheus_url, on_request=metrics.series_checks.inc
        )
        parts.series = SeriesWatch(
            parts.prometheus,
            url=settings.prometheus_url,
            period=settings.series_check_period,
            delay=settings.series_check_delay,
            record=reconciler.write_condition,
            on_no_series=bridge.warn_no_series,
            states=metrics.series_found,
        )
    memo["parts"] = parts
    return parts


async def stop(memo: kopf.Memo) -> None:
    parts: Parts | None = memo.get("parts")
    if parts is not None:
        if parts.series is not None:
            await parts.series.close()
        if parts.prometheus is not None:
            await parts.prometheus.close()
        await parts.reconciler.close()
        parts.metrics.stop()
        await parts.kube.close()


def tune(kopf_settings: kopf.OperatorSettings, settings: OperatorSettings) -> None:
    # One operator per cluster needs no peering objects (the test API server has none either).
    kopf_settings.peering.standalone = True
    # Given namespaces by name, kopf need not list and watch all namespaces (nor CRDs) to find
    # them: the operator then runs with namespaced permissions only, and the CRDs it serves
    # must exist when it starts.
    kopf_settings.scanning.disabled = bool(settings.namespaces)
    # kopf can turn handlers' log lines into Events (older versions always do, newer ones with
    # settings.posting.loggers): keep its "Handler succeeded" per object out of them, warnings
    # and failures only. The operator's own Normal Events go through kopf.event, which this
    # level does not filter (bridge.post_normal).
    kopf_settings.posting.level = logging.WARNING
    # The listing when kopf starts comes in pages, each handed on before the next is read:
    # a thousand PrometheusRules at once are tens of MB of JSON, parsed all at once.
    kopf_settings.watching.chunk_size = LIST_CHUNK
    # An object's worker holds its last event until it exits; after a burst or the listing,
    # a thousand of them idle for kopf's default 5 s would hold every body read.
    kopf_settings.queueing.idle_timeout = WORKER_IDLE_SECONDS


def quiet_http_logs() -> None:
    # The HTTP client logs every request at INFO: one line per write, thousands at start-up.
    for name in ("httpx", "httpx2", "httpcore", "httpcore2"):
        logging.getLogger(name).setLevel(logging.WARNING)
