"""The fastdining-api chart: the scraped job label, the process it runs, values it refuses."""

from __future__ import annotations

import pytest
from testkit import helm

from .conftest import NAMESPACE

CHART = "fastdining-api"


def scraped_job(servicemonitor: dict) -> str:
    """The `job` label Prometheus gives the series: the endpoint's relabeling to a fixed value."""
    [endpoint] = servicemonitor["spec"]["endpoints"]
    [rule] = [r for r in endpoint["relabelings"] if r.get("targetLabel") == "job"]
    assert rule["action"] == "replace" and not rule.get("sourceLabels")
    return rule["replacement"]


@pytest.mark.parametrize("binary", helm.HELM_BINARIES)
@pytest.mark.parametrize("release", ["api", "fdc", "some-other-name"])
def test_job_is_fastapi_whatever_the_release(release: str, binary: str) -> None:
    rendered = helm.render(CHART, helm=binary, release=release, namespace=NAMESPACE)
    monitor = rendered.one("ServiceMonitor")
    assert scraped_job(monitor) == "fastapi"
    service = rendered.one("Service")
    selected = monitor["spec"]["selector"]["matchLabels"]
    assert selected.items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["endpoints"][0]["port"] == service["spec"]["ports"][0]["name"]


def test_job_value_changes_it() -> None:
    rendered = helm.render(CHART, sets={"serviceMonitor.job": "api-canary"})
    assert scraped_job(rendered.one("ServiceMonitor")) == "api-canary"


def test_servicemonitor_labels_and_off_switch() -> None:
    labelled = helm.render(CHART, sets={"serviceMonitor.labels.release": "kps"})
    assert labelled.one("ServiceMonitor")["metadata"]["labels"]["release"] == "kps"
    off = helm.render(CHART, sets={"serviceMonitor.enabled": False})
    assert off.of_kind("ServiceMonitor") == []


def test_runs_the_settings_reading_entry_point_on_8000() -> None:
    [container] = helm.render(CHART).one("Deployment")["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["python", "-m", "fastdining_api"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["FASTDINING_HOST"] == "0.0.0.0" and env["FASTDINING_PORT"] == "8000"
    assert container["ports"] == [{"name": "http", "containerPort": 8000, "protocol": "TCP"}]


def test_the_service_accepts_the_rendered_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The service's own settings loader reads the chart's FASTDINING_* env."""
    from fastdining_api.config import load_settings

    [container] = helm.render(CHART, sets={"logLevel": "debug"}).one("Deployment")["spec"][
        "template"
    ]["spec"]["containers"]
    for entry in container["env"]:
        monkeypatch.setenv(entry["name"], entry["value"])
    settings = load_settings()
    assert (settings.host, settings.port, settings.log_level) == ("0.0.0.0", 8000, "debug")


def test_pdb_when_asked() -> None:
    assert helm.render(CHART).of_kind("PodDisruptionBudget") == []
    pdb = helm.render(CHART, sets={"podDisruptionBudget.enabled": True}).one("PodDisruptionBudget")
    assert pdb["spec"]["maxUnavailable"] == 1


def test_notes_name_the_job_and_the_next_step() -> None:
    text = helm.notes(CHART, sets={"serviceMonitor.labels.release": "kps"})
    assert 'job="fastapi"' in text and "release=kps" in text and "port-forward" in text
    off = helm.notes(CHART, sets={"serviceMonitor.enabled": False})
    assert "No ServiceMonitor" in off


@pytest.mark.parametrize("binary", helm.HELM_BINARIES)
@pytest.mark.parametrize(
    ("sets", "named"),
    [
        ({"replicaCount": "two"}, "replicaCount"),
        ({"replicas": 2}, "replicas"),
        ({"logLevel": "loud"}, "logLevel"),
        ({"service.type": "Ingress"}, "type"),
        ({"serviceMonitor.interval": "often"}, "interval"),
        ({"image.pullPolicy": "Sometimes"}, "pullPolicy"),
    ],
)
def test_wrong_values_are_refused_by_name(sets: dict, named: str, binary: str) -> None:
    helm.assert_refused(CHART, binary, sets, named)
