"""The umbrella with the REAL kube-prometheus-stack: the cross-chart wiring in the rendered output.

Needs charts/fdc-stack/charts/kube-prometheus-stack-<locked version>.tgz, which
`helm dependency build charts/fdc-stack` leaves where the chart repository is reachable (a
user's machine, a hosted CI runner). Without it every test here skips, saying so: this machine
cannot download it, and nothing fake stands in for it here.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
import yaml
from testkit import chart_stub, helm, stack_config

RELEASE = "fdc"
SELECTION = {
    stack_config.values()["selectionLabel"]["name"]: stack_config.values()["selectionLabel"][
        "value"
    ]
}
MONITORED_KINDS = ("ServiceMonitor", "PodMonitor", "Probe", "ScrapeConfig", "PrometheusRule")
SELECTORS = {
    "ServiceMonitor": "serviceMonitorSelector",
    "PodMonitor": "podMonitorSelector",
    "Probe": "probeSelector",
    "ScrapeConfig": "scrapeConfigSelector",
    "PrometheusRule": "ruleSelector",
}


@pytest.fixture(scope="module", params=helm.HELM_BINARIES)
def real(request: pytest.FixtureRequest) -> helm.Rendered:
    if chart_stub.real_kps_archive() is None:
        pytest.skip(
            "the real kube-prometheus-stack is not in charts/fdc-stack/charts/ (no chart "
            "repository here): run `helm repo add prometheus-community "
            "https://prometheus-community.github.io/helm-charts && helm dependency build "
            "charts/fdc-stack` where it is reachable to run these wiring checks"
        )
    return chart_stub.render_umbrella(
        helm=request.param, kps="real", release=RELEASE, include_crds=False
    )


def _env(container: dict[str, Any]) -> dict[str, Any]:
    return {env["name"]: env.get("value", env.get("valueFrom")) for env in container.get("env", [])}


def _grafana_containers(real: helm.Rendered) -> dict[str, dict[str, Any]]:
    [deployment] = [
        d for d in real.of_kind("Deployment") if d["metadata"]["name"] == f"{RELEASE}-grafana"
    ]
    spec = deployment["spec"]["template"]["spec"]
    return {c["name"]: c for c in [*spec.get("initContainers", []), *spec["containers"]]}


def test_prometheus_selects_every_monitor_and_rule_of_the_install(real: helm.Rendered) -> None:
    spec = real.one("Prometheus")["spec"]
    for selector in SELECTORS.values():
        assert spec[selector] == {"matchLabels": SELECTION}, selector
    assert spec["serviceMonitorNamespaceSelector"] == {} and spec["ruleNamespaceSelector"] == {}
    objects = [doc for doc in real.documents if doc["kind"] in MONITORED_KINDS]
    assert len(real.of_kind("ServiceMonitor")) > 4 and real.of_kind("PrometheusRule")
    unselected = [
        f"{doc['kind']} {doc['metadata']['name']}"
        for doc in objects
        if not SELECTION.items() <= doc["metadata"].get("labels", {}).items()
    ]
    assert not unselected, f"Prometheus would not load: {unselected}"
    [operator] = [d for d in real.of_kind("Deployment") if "sloalert" in d["metadata"]["name"]]
    rule_labels = _env(operator["spec"]["template"]["spec"]["containers"][0])[
        "SLOALERT_RULE_LABELS"
    ]
    assert SELECTION.items() <= json.loads(rule_labels).items()


def test_alertmanager_gets_the_shipped_config_and_the_relay_secret(real: helm.Rendered) -> None:
    alertmanager = real.one("Alertmanager")
    assert alertmanager["spec"]["secrets"] == stack_config.alertmanager_secrets()
    name = f"alertmanager-{alertmanager['metadata']['name']}"
    [secret] = [d for d in real.of_kind("Secret") if d["metadata"]["name"] == name]
    rendered = yaml.safe_load(base64.b64decode(secret["data"]["alertmanager.yaml"]))
    assert rendered == stack_config.alertmanager_config()
    services = {d["metadata"]["name"] for d in real.of_kind("Service")}
    assert stack_config.RELAY_FULLNAME in services


def test_grafana_sidecars_pick_up_our_configmaps(real: helm.Rendered) -> None:
    containers = _grafana_containers(real)
    alerts = _env(containers["grafana-sc-alerts"])
    dashboards = _env(containers["grafana-sc-dashboard"])
    labelled = {
        (key, value): doc
        for doc in real.of_kind("ConfigMap")
        for key, value in doc["metadata"].get("labels", {}).items()
    }
    assert (alerts["LABEL"], alerts["LABEL_VALUE"]) in labelled
    alerting = labelled[(alerts["LABEL"], alerts["LABEL_VALUE"])]
    assert set(alerting["data"]) == set(stack_config.GRAFANA_ALERTING_FILES)
    ours = [
        doc
        for doc in real.of_kind("ConfigMap")
        if doc["metadata"]["name"].startswith(f"{RELEASE}-fdc-stack-dashboard-")
    ]
    for doc in ours:
        assert doc["metadata"]["labels"][dashboards["LABEL"]] == dashboards["LABEL_VALUE"]
        assert dashboards["FOLDER_ANNOTATION"] in doc["metadata"]["annotations"]


def test_grafana_reads_the_relay_token_from_its_secret(real: helm.Rendered) -> None:
    env = _env(_grafana_containers(real)["grafana"])
    assert env["FDC_RELAY_TOKEN"] == {
        "secretKeyRef": {"name": stack_config.RELAY_FULLNAME, "key": "token"}
    }


def test_the_rules_datasource_is_kps_prometheus(real: helm.Rendered) -> None:
    datasources = [
        yaml.safe_load(text)
        for doc in real.of_kind("ConfigMap")
        if doc["metadata"].get("labels", {}).get("grafana_datasource")
        for text in doc["data"].values()
    ]
    uids = {ds["uid"]: ds["type"] for f in datasources for ds in f["datasources"]}
    for query in stack_config.grafana_alert_queries():
        assert uids.get(query.datasource_uid) == "prometheus", str(query)


def test_grafanas_admin_password_is_generated(real: helm.Rendered) -> None:
    [secret] = [d for d in real.of_kind("Secret") if d["metadata"]["name"] == f"{RELEASE}-grafana"]
    password = base64.b64decode(secret["data"]["admin-password"]).decode()
    assert len(password) >= 32 and password not in {"admin", "prom-operator"}
