"""Every dashboard round-trips through grafana-foundation-sdk's model, and holds to what the
issue asks of its panels and variables (descriptions, units, datasource, namespace)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fdc_dashboards import alerts, generate, panels, queries
from grafana_foundation_sdk.models import dashboard as model

FILES = sorted(generate.OUTPUT_DIR.glob("*.json"))


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    return [panel for panel in board["panels"] if panel["type"] != "row"]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_a_dashboard_round_trips_through_the_sdks_model(path: Path) -> None:
    board = _load(path)
    decoded = model.Dashboard.from_json(board)
    assert generate.to_json(decoded) == board
    # Grafana 11.6 writes schema 41; an older one would be migrated on load.
    assert board["schemaVersion"] >= 41


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_panel_has_a_description_a_unit_and_the_datasource_variable(path: Path) -> None:
    for panel in _panels(_load(path)):
        assert panel.get("description"), panel["title"]
        if panel["type"] != "table":
            assert panel["fieldConfig"]["defaults"].get("unit"), panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == {"type": "prometheus", "uid": "${datasource}"}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_the_namespace_variable_matches_all_and_no_namespace(path: Path) -> None:
    variables = {v["name"]: v for v in _load(path)["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    namespace = variables["namespace"]
    assert (namespace["includeAll"], namespace["allValue"]) == (True, ".*")
    assert queries.SUBSTITUTIONS["namespace"] == panels.ALL_VALUE


def test_the_slo_variable_lists_every_slo_from_the_recorded_objective() -> None:
    board = _load(generate.OUTPUT_DIR / "fdc-slos.json")
    slo = {v["name"]: v for v in board["templating"]["list"]}["slo"]
    assert slo["query"]["query"] == "label_values(slo:objective:ratio, sloalert_slo)"
    assert slo["includeAll"] and slo["multi"]
    [row] = [panel for panel in board["panels"] if panel["type"] == "row"]
    assert row["repeat"] == "slo"


def test_thresholds_sit_where_the_alerts_fire() -> None:
    board = _load(generate.OUTPUT_DIR / "fdc-services.json")
    steps = {
        panel["title"]: [
            step["value"]
            for step in panel["fieldConfig"]["defaults"].get("thresholds", {}).get("steps", [])
        ]
        for panel in _panels(board)
    }
    assert steps["5xx error ratio (FastAPI and Django together)"] == [None, alerts.ERROR_RATIO]
    assert steps["FastAPI p95 latency, all requests"] == [None, alerts.FASTAPI_P95_SECONDS]
    # The alert reads the overall p95: no per-route line suggests that one route crossing it
    # would alert.
    assert steps["FastAPI p95 latency by handler"] == []
    assert steps["Django p95 latency by view"] == []
    assert steps["CPU busy per node"] == [None, alerts.CPU_BUSY]


def test_requests_per_second_shows_each_app_and_their_total() -> None:
    board = _load(generate.OUTPUT_DIR / "fdc-services.json")
    [panel] = [p for p in _panels(board) if p["title"] == "Requests per second by service"]
    legends = [target["legendFormat"] for target in panel["targets"]]
    assert legends == ["FastAPI", "Django", "Total"]
    total = panel["targets"][2]["expr"]
    # An idle app counts as 0 in the total instead of hiding the other's traffic.
    assert total.count("or vector(0)") == 2
    assert all(target["expr"].split("(", 1)[1] in total for target in panel["targets"][:2])
