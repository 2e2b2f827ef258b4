"""No dead queries: every selector of every shipped rule, preset, dashboard panel and Grafana
alert matches series the running stack really produced, after the alert path's traffic and
errors (the `alert_path` fixture). `make check-queries` runs this file.

A failure lists each dead selector with the file it comes from and why it matches nothing.
"""

from __future__ import annotations

import pytest
from fdc_local.stack import Stack
from testkit import dead_queries
from testkit.alert_path import AlertPathRun

# The first test also starts the stack and runs the scenario (about 3 minutes).
pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]


def test_every_shipped_query_reads_series_that_exist(
    stack: Stack, alert_path: AlertPathRun
) -> None:
    queries = dead_queries.shipped_queries()
    dead = dead_queries.dead_selectors(queries, stack.prometheus.base_url)
    listed = "\n  ".join(str(item) for item in dead)
    assert not dead, f"{len(dead)} dead selector(s) in {len(queries)} queries:\n  {listed}"


def test_every_source_of_queries_is_checked() -> None:
    """An empty source would pass the check above by checking nothing."""
    sources = {
        "manifests/slo": dead_queries.manifest_queries(),
        "presets": dead_queries.preset_queries(),
        "dashboards": dead_queries.dashboard_queries(),
        "Grafana alerts": dead_queries.grafana_alert_queries(),
    }
    assert [name for name, queries in sources.items() if not queries] == []
    manifests = {query.source.split(":")[0] for query in sources["manifests/slo"]}
    assert manifests == {
        f"manifests/slo/{path.name}" for path in dead_queries.MANIFESTS_DIR.glob("*.yaml")
    }


def test_a_misspelt_selector_is_reported_with_its_file(
    stack: Stack, alert_path: AlertPathRun
) -> None:
    """The check can fail: a wrong name and a wrong job are both caught, and said where."""
    queries = [
        dead_queries.Query(
            "seed.yaml: alert A", 'sum(rate(http_request_total{job="fastapi"}[5m]))'
        ),
        dead_queries.Query("seed.yaml: alert B", 'rate(http_requests_total{job="fastap"}[5m])'),
        dead_queries.Query("seed.yaml: alert C", 'rate(http_requests_total{job="fastapi"}[5m])'),
        dead_queries.Query(
            "seed.yaml: alert D", 'rate(http_requests_total{job=~"fastapi|flask"}[5m])'
        ),
    ]
    dead = dead_queries.dead_selectors(queries, stack.prometheus.base_url)
    assert [(item.query.source, item.selector) for item in dead] == [
        ("seed.yaml: alert A", 'http_request_total{job="fastapi"}'),
        ("seed.yaml: alert B", 'http_requests_total{job="fastap"}'),
        ("seed.yaml: alert D", 'http_requests_total{job=~"fastapi|flask"}'),
    ]
    assert "no series named http_request_total" in str(dead[0])
    # Each alternative is asked alone: the dead one is named.
    assert 'none with job="flask"' in str(dead[2])
