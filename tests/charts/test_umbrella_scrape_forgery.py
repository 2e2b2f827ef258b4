"""Issue 24, finding 2: a scraped app cannot forge the operator's recorded series.

The umbrella gives kube-prometheus-stack's Prometheus a default scrapeClass whose
metricRelabelings drop every scraped sample named `slo:*` and every scraped `sloalert_*` label
(prometheus-operator puts a scrape class's metric relabelings first in each job's
`metric_relabel_configs`). Here a real Prometheus scrapes one forging target twice: once through
exactly those rules (read from the umbrella's values, converted to Prometheus' own keys as
prometheus-operator does), once without them, which reproduces the finding.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from testkit import stack_config
from testkit.prometheus import RunningPrometheus, run_prometheus

# What the finding's app exposed (both windows of the page), plus one honest series carrying a
# forged `sloalert_slo` label.
FORGED = """\
# TYPE slo:sli_error:ratio_rate1h gauge
slo:sli_error:ratio_rate1h{sloalert_slo="fastapi-availability",sloalert_namespace="monitoring"} 1
# TYPE slo:sli_error:ratio_rate5m gauge
slo:sli_error:ratio_rate5m{sloalert_slo="fastapi-availability",sloalert_namespace="monitoring"} 1
# TYPE app_requests_total counter
app_requests_total{method="get",sloalert_slo="fastapi-availability"} 5
"""


def default_scrape_class() -> dict[str, Any]:
    spec = stack_config.kps_values()["prometheus"]["prometheusSpec"]
    [default] = [c for c in spec["scrapeClasses"] if c.get("default")]
    return default


def _snake(key: str) -> str:
    return re.sub(r"([A-Z])", r"_\1", key).lower()


def prometheus_relabel_configs(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """prometheus-operator's RelabelConfig (camelCase) as Prometheus' relabel_config."""
    return [{_snake(key): value for key, value in rule.items()} for rule in rules]


class _Forger(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = FORGED.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def forger() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Forger)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def prometheus(tmp_path: Path, forger: str) -> Iterator[RunningPrometheus]:
    with run_prometheus(tmp_path / "prometheus", []) as running:
        config = yaml.safe_load(running.config_file.read_text())
        relabel = prometheus_relabel_configs(default_scrape_class()["metricRelabelings"])
        config["scrape_configs"] = [
            {
                "job_name": "protected",
                "static_configs": [{"targets": [forger]}],
                "metric_relabel_configs": relabel,
            },
            {"job_name": "unprotected", "static_configs": [{"targets": [forger]}]},
        ]
        running.config_file.write_text(yaml.safe_dump(config, sort_keys=False))
        running.reload()
        running.wait_for_targets_up(["protected", "unprotected"])
        running.wait_for(
            "both jobs' samples stored",
            lambda: len(running.query("count by (job) (app_requests_total)")) == 2,
            timeout=30,
        )
        yield running


@pytest.mark.integration
def test_forged_slo_series_are_dropped_by_the_default_scrape_class(
    prometheus: RunningPrometheus,
) -> None:
    forged = '{__name__=~"slo:.*", job="%s"}'
    # The reproduction: without the scrape class, the forged page windows are stored as is.
    assert len(prometheus.query(forged % "unprotected")) == 2
    assert prometheus.query(forged % "protected") == []
    [honest] = prometheus.query('app_requests_total{job="protected"}')
    assert "sloalert_slo" not in honest["metric"] and honest["metric"]["method"] == "get"
    [raw] = prometheus.query('app_requests_total{job="unprotected"}')
    assert raw["metric"]["sloalert_slo"] == "fastapi-availability"


def test_the_scrape_class_is_the_default_and_names_both_patterns() -> None:
    scrape_class = default_scrape_class()
    rules = prometheus_relabel_configs(scrape_class["metricRelabelings"])
    assert {"source_labels": ["__name__"], "regex": "slo:.*", "action": "drop"} in rules
    assert {"regex": "sloalert_.*", "action": "labeldrop"} in rules
