"""The SLOAlert operator on a real API server: throughput, latency, drift repair, memory.

One run, on the local test API server (etcd + test-apiserver, as `make setup` builds them) or
the cluster KUBECONFIG names, with the operator as a real process (`sloalert-operator`),
measured from the outside through watches, as a user would see it:

1. Latency, paced: SLOAlert created -> its PrometheusRule seen by a watch, against the same
   hop for a raw create of a custom resource (a PrometheusRule created directly -> seen by the
   watch), interleaved so both see the same machine. Target: p99 <= 3x raw.
2. Throughput: 1,000 SLOAlerts created by 8 client threads -> every PrometheusRule exists and
   every SLOAlert is Ready=True, against the time the client's creates alone took (the API
   server's own writes, same run). Target: <= 3x.
3. Drift repair, with those 1,000 in the operator's memory: a rule's spec edited by hand, or
   the rule deleted -> the watch sees it put back. Target: <= 2 s.
4. The operator's peak RSS over the whole run, sampled every 50 ms, and that of the second
   operator below, which resumes all 1,155 SLOAlerts at once. Target: <= 150 MB each (a
   budget: the chart's limit is 256 Mi; there is no baseline to hold it to).
5. The SeriesFound check, by a second operator process given a real Prometheus (scraping
   itself as job "checkout") once the first has stopped: it resumes the same SLOAlerts, whose
   burst ones each read a selector of their own, half of them live and half dead, so batching
   cannot lean on repeats. Once every SLOAlert has SeriesFound, the
   requests Prometheus served on its series and labels API are counted (from its own
   /metrics) over two check periods of 30 s, and scaled to the default period of 5 minutes.
   Target: <= 60 queries a minute (one a second) at the default period.

The machine is shared (API server, etcd, operator and this client on the same cores), so the
absolute figures move with other load; the latency ratio is measured in the same minute.
Run from the repository root (about 4 minutes):
    uv run python bench/bench_operator.py
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
from lightkube import Client
from lightkube.types import OnErrorAction, OnErrorResult, PatchType
from testkit.apiserver import Cluster
from testkit.bench_results import Figure, at_most, finish
from testkit.processes import LOOPBACK, free_port
from testkit.prometheus import RunningPrometheus, ScrapeJob, run_prometheus
from testkit.scrape import scrape, total
from testkit.sloalert_cluster import (
    PrometheusRule,
    SLOAlert,
    client,
    condition,
    operator_cluster,
    operator_process,
    sloalert,
)

WARM_UP = 5
LATENCY_SAMPLES = 150
BURST = 1000
BURST_THREADS = 8
BURST_DEADLINE = 120.0
DRIFT_SAMPLES = 15
TARGET_BURST_RATIO = 3.0
TARGET_P99_RATIO = 3.0
TARGET_REPAIR_SECONDS = 2.0
TARGET_RSS_MB = 150.0
CHECK_PERIOD_SECONDS = 30
DEFAULT_CHECK_PERIOD_SECONDS = 300
COUNT_WINDOW_SECONDS = 2 * CHECK_PERIOD_SECONDS
TARGET_QUERIES_PER_MINUTE = 60.0
CHECK_SETTINGS = {
    "SLOALERT_SERIES_CHECK_PERIOD": f"{CHECK_PERIOD_SECONDS}s",
    "SLOALERT_SERIES_CHECK_DELAY": "5s",
}
# The handlers of Prometheus' API the series check calls.
SERIES_API_HANDLERS = ("/api/v1/series", "/api/v1/labels", "/api/v1/label/:name/values")


@dataclass(frozen=True)
class Namespaces:
    """One fresh namespace per phase, so no phase's watch sees another's objects."""

    warm: str
    latency_operator: str
    latency_raw: str
    burst: str


@contextmanager
def namespaces(cluster: Cluster) -> Iterator[Namespaces]:
    """Created on a real cluster (and deleted after), mere names on the local server."""
    with ExitStack() as stack:
        yield Namespaces(
            *(
                stack.enter_context(cluster.namespace(prefix))
                for prefix in ("warm", "lat-op", "lat-raw", "burst")
            )
        )


@dataclass
class _Waiter:
    name: str
    predicate: Callable[[str, Any], bool]
    watcher: Watcher
    done: threading.Event = field(default_factory=threading.Event)
    at: float = 0.0


class Watcher:
    """A watch in its own thread, stamping events as they arrive; waiters are registered
    before the action they wait for, so no event can slip past."""

    def __init__(self, kubeconfig: Path, resource: type, namespace: str) -> None:
        self._lock = threading.Lock()
        self._waiters: list[_Waiter] = []
        self.listeners: list[Callable[[str, Any], None]] = []
        # Why the watch ended, if it did: a waiter that times out says so.
        self.ended: str | None = None
        args = (client(kubeconfig), resource, namespace)
        threading.Thread(target=self._run, args=args, daemon=True).start()

    def expect(self, name: str, predicate: Callable[[str, Any], bool]) -> _Waiter:
        waiter = _Waiter(name, predicate, self)
        with self._lock:
            self._waiters.append(waiter)
        return waiter

    def _run(self, kube: Client, resource: type, namespace: str) -> None:
        try:
            self._follow(kube, resource, namespace)
        except Exception as exc:
            # The API server stops at the end of the run, before this daemon thread does; a
            # watch lost earlier shows up in a waiter's TimeoutError.
            self.ended = f"{type(exc).__name__}: {exc}"
        else:
            self.ended = "the watch ended"

    def _follow(self, kube: Client, resource: type, namespace: str) -> None:
        for kind, obj in kube.watch(resource, namespace=namespace, on_error=_retry_when_told):
            now = time.perf_counter()
            for listener in self.listeners:
                listener(kind, obj)
            with self._lock:
                matched = [
                    w
                    for w in self._waiters
                    if w.name == obj.metadata.name and w.predicate(kind, obj)
                ]
                for waiter in matched:
                    self._waiters.remove(waiter)
            for waiter in matched:
                waiter.at = now
                waiter.done.set()


def _retry_when_told(error: Exception, count: int) -> OnErrorResult:
    """A watch refused with 429 is tried again after its Retry-After, as kopf's client does.
    Right after a custom resource's definition is established, the API server answers its
    watches so ("storage is (re)initializing") until its watch cache is ready. A watch
    restarted before any event lists what already exists as ADDED, so nothing is missed."""
    if (
        isinstance(error, httpx.HTTPStatusError)
        and error.response.status_code == 429
        and count <= 30
    ):
        # lightkube leaves the refused response open: its connection goes back to the pool.
        error.response.close()
        return OnErrorResult(OnErrorAction.RETRY, sleep=_retry_after(error.response))
    return OnErrorResult(OnErrorAction.RAISE)


def _retry_after(response: httpx.Response) -> float:
    seconds = response.headers.get("Retry-After", "")
    return float(seconds) if seconds.isdigit() else 1.0


def wait(waiter: _Waiter, started: float, timeout: float = 20.0) -> float:
    """Seconds from `started` until the watch saw what `waiter` waits for."""
    if not waiter.done.wait(timeout):
        ended = waiter.watcher.ended
        why = f" (the watch had stopped: {ended})" if ended else " (the watch was still open)"
        raise TimeoutError(f"{waiter.name}: nothing seen within {timeout}s{why}")
    return waiter.at - started


def seen(kind: str, _obj: Any) -> bool:
    return kind == "ADDED"


class PeakRss:
    def __init__(self, pid: int) -> None:
        self.peak = 0
        self._process = psutil.Process(pid)
        self._stop = threading.Event()
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            try:
                self.peak = max(self.peak, self._process.memory_info().rss)
            except psutil.NoSuchProcess:
                return

    def stop(self) -> float:
        self._stop.set()
        return self.peak / 2**20


def raw_rule(name: str, namespace: str, template: Mapping[str, Any]) -> Any:
    """A PrometheusRule as the operator would write it, created directly: the baseline hop."""
    return PrometheusRule(
        metadata={"name": name, "namespace": namespace, "labels": template["metadata"]["labels"]},
        spec=template["spec"],
    )


def measure_latency(
    kubeconfig: Path, kube: Client, spaces: Namespaces, template: Any
) -> tuple[list[float], list[float]]:
    ops, raws = (
        Watcher(kubeconfig, PrometheusRule, spaces.latency_operator),
        Watcher(kubeconfig, PrometheusRule, spaces.latency_raw),
    )
    time.sleep(0.5)  # watches open; a missed event would fail loudly as a TimeoutError
    op_times, raw_times = [], []
    for index in range(LATENCY_SAMPLES):
        name = f"lat-{index:04d}"
        waiter, started = raws.expect(name, seen), time.perf_counter()
        kube.create(raw_rule(name, spaces.latency_raw, template))
        raw_times.append(wait(waiter, started))
        waiter, started = ops.expect(name, seen), time.perf_counter()
        kube.create(sloalert(name, spaces.latency_operator))
        op_times.append(wait(waiter, started))
    return op_times, raw_times


def measure_burst(kubeconfig: Path, namespace: str) -> tuple[float, float]:
    """Seconds until all rules exist and all SLOAlerts are Ready, and the client's own time."""
    rules, ready = set(), set()
    all_done = threading.Event()

    def on_rule(kind: str, obj: Any) -> None:
        if kind == "ADDED":
            rules.add(obj.metadata.name)
            check()

    def on_slo(_kind: str, obj: Any) -> None:
        ready_condition = condition(obj, "Ready")
        if ready_condition and ready_condition["status"] == "True":
            ready.add(obj.metadata.name)
            check()

    def check() -> None:
        if len(rules) == BURST and len(ready) == BURST:
            all_done.set()

    Watcher(kubeconfig, PrometheusRule, namespace).listeners.append(on_rule)
    Watcher(kubeconfig, SLOAlert, namespace).listeners.append(on_slo)
    time.sleep(0.5)
    local = threading.local()

    def create(index: int) -> None:
        if not hasattr(local, "kube"):
            local.kube = client(kubeconfig)
        local.kube.create(burst_sloalert(index, namespace))

    started = time.perf_counter()
    with ThreadPoolExecutor(BURST_THREADS) as pool:
        list(pool.map(create, range(BURST)))
    created = time.perf_counter() - started
    if not all_done.wait(BURST_DEADLINE):
        raise TimeoutError(f"after {BURST_DEADLINE}s: {len(rules)} rules, {len(ready)} ready")
    return time.perf_counter() - started, created


def burst_sloalert(index: int, namespace: str) -> Any:
    """An SLOAlert reading a selector of its own: live for even indices (Prometheus' own
    request counter has handlers other than this one), dead for odd ones (none is this one)."""
    resource = sloalert(f"burst-{index:04d}", namespace)
    op = "!=" if index % 2 == 0 else "="
    total_selector = f'prometheus_http_requests_total{{job="checkout",handler{op}"/x-{index}"}}'
    resource.spec["indicator"]["ratio"] = {
        "errors": total_selector[:-1] + ',code=~"5.."}',
        "total": total_selector,
    }
    return resource


def measure_series_checks(
    operator_metrics: str, prometheus: RunningPrometheus, sloalerts: int
) -> tuple[dict[str, float], float, float]:
    """SeriesFound counts once all SLOAlerts have one, then the requests Prometheus served to
    the check per minute over COUNT_WINDOW_SECONDS, by its count and by the operator's."""
    deadline = time.monotonic() + 6 * CHECK_PERIOD_SECONDS
    while True:
        families = scrape(operator_metrics)
        states = {
            status: total(families, "sloalert_sloalerts_series_found", {"status": status})
            for status in ("True", "False", "Unknown")
        }
        if sum(states.values()) >= sloalerts or time.monotonic() > deadline:
            break
        time.sleep(1)

    def counts() -> tuple[float, float]:
        served = scrape(f"{prometheus.base_url}/metrics")
        return (
            sum(
                total(served, "prometheus_http_requests_total", {"handler": handler})
                for handler in SERIES_API_HANDLERS
            ),
            total(scrape(operator_metrics), "sloalert_series_check_requests_total"),
        )

    served_before, sent_before = counts()
    time.sleep(COUNT_WINDOW_SECONDS)
    served_after, sent_after = counts()
    minutes = COUNT_WINDOW_SECONDS / 60
    return states, (served_after - served_before) / minutes, (sent_after - sent_before) / minutes


@contextmanager
def self_scraping_prometheus(workdir: Path) -> Iterator[RunningPrometheus]:
    """A real Prometheus whose own metrics, scraped as job "checkout", are the series read."""
    port = free_port()
    with run_prometheus(
        workdir, [ScrapeJob("checkout", [f"{LOOPBACK}:{port}"])], port=port
    ) as prom:
        prom.wait_for_targets_up(["checkout"])
        yield prom


def measure_repairs(
    kubeconfig: Path, kube: Client, namespace: str
) -> tuple[list[float], list[float]]:
    watcher = Watcher(kubeconfig, PrometheusRule, namespace)
    time.sleep(0.5)
    edits, deletions = [], []
    for index in range(DRIFT_SAMPLES):
        name = f"burst-{index:04d}"
        good = kube.get(PrometheusRule, name, namespace=namespace)["spec"]
        waiter = watcher.expect(
            name, lambda kind, obj, good=good: kind == "MODIFIED" and obj["spec"] == good
        )
        started = time.perf_counter()
        kube.patch(
            PrometheusRule,
            name,
            {"spec": {"groups": []}},
            namespace=namespace,
            patch_type=PatchType.MERGE,
        )
        edits.append(wait(waiter, started))
        waiter = watcher.expect(name, seen)
        started = time.perf_counter()
        kube.delete(PrometheusRule, name, namespace=namespace)
        deletions.append(wait(waiter, started))
    return edits, deletions


def p(values: list[float], quantile: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(quantile * (len(ordered) - 1)))]


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-operator-") as tmp:
        work = Path(tmp)
        try:
            return _run(work)
        except Exception:
            # The logs go with the temporary directory: show what the processes said first.
            _print_log_tails(work)
            raise


def _print_log_tails(work: Path, lines: int = 60) -> None:
    for log in sorted(work.rglob("*.log")):
        tail = log.read_text(errors="replace").splitlines()[-lines:]
        print(f"--- last {len(tail)} lines of {log.relative_to(work)}", file=sys.stderr)
        print("\n".join(tail), file=sys.stderr)


def _run(work: Path) -> int:
    with (
        operator_cluster(work / "apiserver") as cluster,
        namespaces(cluster) as spaces,
    ):
        kube = client(cluster.kubeconfig)
        where = "the local test API server" if cluster.local else cluster.server
        with operator_process(cluster.kubeconfig, work / "operator.log") as operator:
            rss = PeakRss(operator.process.pid)
            template = _warm_up(cluster.kubeconfig, kube, spaces.warm)
            op_times, raw_times = measure_latency(cluster.kubeconfig, kube, spaces, template)
            burst_seconds, client_seconds = measure_burst(cluster.kubeconfig, spaces.burst)
            edits, deletions = measure_repairs(cluster.kubeconfig, kube, spaces.burst)
            peak_mb = rss.stop()
        # The check in its own phase, so the figures above stay those of the operator's
        # core: the same SLOAlerts, resumed by an operator that has a Prometheus URL.
        sloalerts = WARM_UP + LATENCY_SAMPLES + BURST
        with (
            self_scraping_prometheus(work / "prometheus") as prom,
            operator_process(
                cluster.kubeconfig,
                work / "operator-checking.log",
                env={"SLOALERT_PROMETHEUS_URL": prom.base_url, **CHECK_SETTINGS},
            ) as checking,
        ):
            check_rss = PeakRss(checking.process.pid)
            states, served_per_minute, sent_per_minute = measure_series_checks(
                f"{checking.base_url}/metrics", prom, sloalerts
            )
            check_peak_mb = check_rss.stop()
    raw50, raw99 = p(raw_times, 0.5), p(raw_times, 0.99)
    op50, op99 = p(op_times, 0.5), p(op_times, 0.99)
    repair_worst = max(*edits, *deletions)
    default_per_minute = served_per_minute * CHECK_PERIOD_SECONDS / DEFAULT_CHECK_PERIOD_SECONDS
    burst_ratio = burst_seconds / client_seconds
    series_ok = sum(states.values()) == sloalerts and states["Unknown"] == 0
    figures = [
        at_most(
            f"{BURST} SLOAlerts -> all rules + Ready=True",
            burst_ratio,
            TARGET_BURST_RATIO,
            baseline="the client's own creates of the same SLOAlerts, same run",
            detail=f"{burst_seconds:.1f} s; the client's creates alone: {client_seconds:.1f} s",
        ),
        at_most(
            f"create -> rule latency, n={LATENCY_SAMPLES}",
            op99 / raw99,
            TARGET_P99_RATIO,
            baseline="a raw create of the same object, interleaved, same run (p99)",
            detail=f"p50 {ms(op50)}, p99 {ms(op99)}; raw create p50 {ms(raw50)}, p99 {ms(raw99)}",
            spread=f"p50 {op50 / raw50:.2f}x, p99 {op99 / raw99:.2f}x",
        ),
        at_most(
            f"drift repair, {DRIFT_SAMPLES} edits + {DRIFT_SAMPLES} deletions",
            repair_worst,
            TARGET_REPAIR_SECONDS,
            unit="s",
            baseline="a budget (the operator README's bound)",
            detail=(
                f"the worst; edit p50 {ms(p(edits, 0.5))}, deletion p50 {ms(p(deletions, 0.5))}"
            ),
            spread=f"{ms(min(*edits, *deletions))} to {ms(repair_worst)}",
        ),
        _unless(
            series_ok,
            "not every SLOAlert got a True or False SeriesFound",
        )(
            f"SeriesFound check, {sloalerts} SLOAlerts",
            default_per_minute,
            TARGET_QUERIES_PER_MINUTE,
            unit="queries/min",
            baseline="a budget (one a second) at the default 5 min period",
            detail=(
                f"{served_per_minute:.0f} queries/min at a {CHECK_PERIOD_SECONDS} s period (the"
                f" operator counted {sent_per_minute:.0f}); SeriesFound True"
                f" {states['True']:.0f}, False {states['False']:.0f},"
                f" Unknown {states['Unknown']:.0f}"
            ),
        ),
        at_most(
            "operator peak RSS",
            peak_mb,
            TARGET_RSS_MB,
            unit="MB",
            baseline="a budget (the chart's limit is 256 Mi)",
            detail="over the latency, burst and drift phases (the burst's operator)",
        ),
        at_most(
            f"operator peak RSS, resuming {sloalerts} SLOAlerts",
            check_peak_mb,
            TARGET_RSS_MB,
            unit="MB",
            baseline="a budget (the chart's limit is 256 Mi)",
            detail="a second operator, with a Prometheus URL, resuming every SLOAlert at once",
        ),
    ]
    print(f"SLOAlert operator on {where} (a shared 2-core machine)")
    return finish("operator", figures, notes=[f"on {where}"])


def _unless(ok: bool, why: str) -> Callable[..., Figure]:
    """at_most, whose figure is also missed (saying why) when `ok` is False."""

    def figure(*args: Any, **kwargs: Any) -> Figure:
        made = at_most(*args, **kwargs)
        if ok:
            return made
        return made.model_copy(update={"met": False, "detail": f"{made.detail}; {why}"})

    return figure


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def _warm_up(kubeconfig: Path, kube: Client, namespace: str) -> dict[str, Any]:
    """A few SLOAlerts first (imports, connections, watches warm); returns one rule as made."""
    watcher = Watcher(kubeconfig, PrometheusRule, namespace)
    time.sleep(0.5)
    waiters = [watcher.expect(f"warm-{i}", seen) for i in range(WARM_UP)]
    for i in range(WARM_UP):
        kube.create(sloalert(f"warm-{i}", namespace))
    for waiter in waiters:
        wait(waiter, started=0.0)
    return kube.get(PrometheusRule, "warm-0", namespace=namespace).to_dict()


if __name__ == "__main__":
    sys.exit(main())
