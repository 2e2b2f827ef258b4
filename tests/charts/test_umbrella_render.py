"""The umbrella chart, rendered with helm v4 and v3 over a STAND-IN kube-prometheus-stack
(`testkit.chart_stub`: the real one cannot be downloaded here; test_umbrella_real_kps.py checks
it where it is present). Everything rendered is ours: the four charts, the SLOAlerts, the
Grafana ConfigMaps. kube-prometheus-stack's side of the wiring is read from the umbrella's
values, which is exactly what it receives."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from testkit import chart_stub, crd_schema, helm, stack_config
from testkit.chart_checks import CUSTOM_KINDS, POD_OWNERS, containers, pod_specs, run_checkov
from testkit.helm import HelmError
from testkit.tools import require_tool

SELECTION = {
    stack_config.values()["selectionLabel"]["name"]: stack_config.values()["selectionLabel"][
        "value"
    ]
}
APP_CHARTS = {"fastdining-api": "fastapi", "airestaurant": "django"}


@pytest.fixture(scope="module", params=helm.HELM_BINARIES)
def binary(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def rendered(binary: str) -> helm.Rendered:
    return chart_stub.render_umbrella(helm=binary)


def _by_name(documents: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in documents}


def test_lint_strict(binary: str) -> None:
    output = helm.lint(chart_stub.built_umbrella(binary), helm=binary)
    assert "0 chart(s) failed" in output


def test_every_component_is_rendered(rendered: helm.Rendered) -> None:
    deployments = {
        doc["metadata"]["labels"]["app.kubernetes.io/name"]: doc
        for doc in rendered.of_kind("Deployment")
    }
    assert set(deployments) == {
        "fastdining-api",
        "airestaurant",
        "discord-relay",
        "sloalert-operator",
    }
    assert rendered.one("CustomResourceDefinition")["spec"]["group"] == "slo.fastdining.dev"


def test_each_component_can_be_switched_off(binary: str) -> None:
    rendered = chart_stub.render_umbrella(
        helm=binary, sets={"fastdining-api.enabled": False, "airestaurant.enabled": False}
    )
    names = {
        doc["metadata"]["labels"]["app.kubernetes.io/name"]
        for doc in rendered.of_kind("Deployment")
    }
    assert names == {"discord-relay", "sloalert-operator"}


def test_prometheus_selects_every_servicemonitor_and_the_operators_rules(
    rendered: helm.Rendered,
) -> None:
    kps = stack_config.kps_values()
    spec = kps["prometheus"]["prometheusSpec"]
    for kind in ("serviceMonitor", "podMonitor", "probe", "scrapeConfig", "rule"):
        assert spec[f"{kind}SelectorNilUsesHelmValues"] is False, kind
        assert spec[f"{kind}Selector"] == {"matchLabels": SELECTION}, kind
    monitors = rendered.of_kind("ServiceMonitor")
    assert len(monitors) == 4
    for monitor in monitors:
        labels = monitor["metadata"]["labels"]
        assert SELECTION.items() <= labels.items(), monitor["metadata"]["name"]
    assert json.loads(_operator_env(rendered)["SLOALERT_RULE_LABELS"]) == SELECTION


def _operator_env(rendered: helm.Rendered) -> dict[str, str]:
    [(_, spec)] = [
        item for item in pod_specs(rendered.of_kind("Deployment")) if "sloalert" in item[0]
    ]
    return {env["name"]: env.get("value", "") for env in spec["containers"][0].get("env", [])}


def test_the_operator_checks_series_against_the_installs_prometheus(
    rendered: helm.Rendered,
) -> None:
    assert _operator_env(rendered)["SLOALERT_PROMETHEUS_URL"] == "http://prometheus-operated:9090"


def test_app_jobs_are_the_ones_the_slos_read(rendered: helm.Rendered) -> None:
    jobs = set()
    for monitor in rendered.of_kind("ServiceMonitor"):
        for endpoint in monitor["spec"]["endpoints"]:
            for relabel in endpoint.get("relabelings", []):
                if relabel.get("targetLabel") == "job":
                    jobs.add(relabel["replacement"])
    assert set(APP_CHARTS.values()) <= jobs
    for slo in rendered.of_kind("SLOAlert"):
        preset = slo["spec"]["indicator"].get("preset", {})
        if "job" in preset:
            assert preset["job"] in jobs, slo["metadata"]["name"]


def test_slos_are_the_shipped_files_in_the_release_namespace(rendered: helm.Rendered) -> None:
    slos = _by_name(rendered.of_kind("SLOAlert"))
    files = stack_config.shipped_sloalert_files()
    assert set(slos) == {stack_config.sloalert_name(path) for path in files}
    for path in files:
        shipped = yaml.safe_load(path.read_text())
        doc = slos[shipped["metadata"]["name"]]
        assert doc["metadata"]["namespace"] == "monitoring"
        assert doc["spec"] == shipped["spec"], path.name


def test_rendered_slos_pass_the_crds_schema(rendered: helm.Rendered) -> None:
    """What the umbrella adds (namespace, labels) keeps each SLOAlert valid for the CRD it
    installs (its structural schema, strict about unknown fields; CEL needs an API server)."""
    crd = rendered.one("CustomResourceDefinition")
    slos = rendered.of_kind("SLOAlert")
    assert slos
    for slo in slos:
        version = slo["apiVersion"].split("/")[1]
        assert not crd_schema.errors(crd, version, slo), slo["metadata"]["name"]


def test_one_slo_can_be_switched_off_by_name(binary: str) -> None:
    rendered = chart_stub.render_umbrella(helm=binary, sets={"sloAlerts.slos.node-cpu": False})
    names = set(_by_name(rendered.of_kind("SLOAlert")))
    assert "node-cpu" not in names and "node-memory" in names


def test_relay_secret_is_the_one_alertmanager_and_grafana_read(rendered: helm.Rendered) -> None:
    [secret] = [doc for doc in rendered.of_kind("Secret") if "token" in doc.get("data", {})]
    name = secret["metadata"]["name"]
    assert name == stack_config.RELAY_FULLNAME
    assert stack_config.alertmanager_secrets() == [name]
    assert stack_config.relay_token_file() == f"/etc/alertmanager/secrets/{name}/token"
    grafana_env = stack_config.kps_values()["grafana"]["envValueFrom"]
    assert grafana_env["FDC_RELAY_TOKEN"] == {"secretKeyRef": {"name": name, "key": "token"}}
    service = _by_name(rendered.of_kind("Service"))[name]
    assert stack_config.RELAY_PORT in {port["port"] for port in service["spec"]["ports"]}


def _labelled(rendered: helm.Rendered, label: str, value: str) -> list[dict[str, Any]]:
    """The ConfigMaps a Grafana sidecar watching `label: value` loads."""
    return [
        doc
        for doc in rendered.of_kind("ConfigMap")
        if doc["metadata"]["labels"].get(label) == value
    ]


def test_grafana_alerting_configmap_is_what_stack_config_reads(rendered: helm.Rendered) -> None:
    alerts = stack_config.kps_values()["grafana"]["sidecar"]["alerts"]
    assert alerts["enabled"] is True
    [configmap] = _labelled(rendered, alerts["label"], alerts["labelValue"])
    # Keys prefixed with the chart's name: the sidecar writes every ConfigMap's keys into one
    # folder, where another ConfigMap's rules.yaml would overwrite a plain one.
    prefix = yaml.safe_load((stack_config.UMBRELLA_DIR / "Chart.yaml").read_text())["name"] + "-"
    assert all(key.startswith(prefix) for key in configmap["data"]), sorted(configmap["data"])
    parsed = {
        key.removeprefix(prefix): yaml.safe_load(text) for key, text in configmap["data"].items()
    }
    assert parsed == stack_config.grafana_provisioning()


def test_every_dashboard_file_becomes_a_labelled_configmap(rendered: helm.Rendered) -> None:
    sidecar = stack_config.kps_values()["grafana"]["sidecar"]["dashboards"]
    files = sorted((stack_config.UMBRELLA_DIR / "dashboards").glob("*.json"))
    configmaps = _labelled(rendered, sidecar["label"], sidecar["labelValue"])
    data = {key: value for doc in configmaps for key, value in doc["data"].items()}
    assert sorted(data) == [path.name for path in files]
    for path in files:
        assert json.loads(data[path.name]) == json.loads(path.read_text()), path.name
    folder = stack_config.values()["dashboards"]["folder"]
    for doc in configmaps:
        assert doc["metadata"]["annotations"] == {sidecar["folderAnnotation"]: folder}


def test_a_dashboard_file_is_shipped_as_given(binary: str, tmp_path: Path) -> None:
    """Works before the dashboards exist too: a dashboard put in a copy comes out whole."""
    umbrella = chart_stub.build_umbrella(tmp_path, helm=binary)
    dashboard = {"title": "Probe", "uid": "probe", "panels": [], "schemaVersion": 39}
    (umbrella / "dashboards").mkdir(exist_ok=True)
    (umbrella / "dashboards" / "Probe_Board.json").write_text(json.dumps(dashboard))
    rendered = helm.render(umbrella, helm=binary, release="fdc", namespace="monitoring")
    [doc] = [d for d in rendered.of_kind("ConfigMap") if "Probe_Board.json" in d.get("data", {})]
    assert doc["metadata"]["name"] == "fdc-fdc-stack-dashboard-probe-board"
    assert json.loads(doc["data"]["Probe_Board.json"]) == dashboard


def test_no_secret_value_outside_secrets(rendered: helm.Rendered) -> None:
    secrets = {
        base64.b64decode(value).decode()
        for doc in rendered.of_kind("Secret")
        for value in doc.get("data", {}).values()
    }
    assert secrets
    for doc in rendered.documents:
        if doc["kind"] != "Secret":
            text = json.dumps(doc)
            assert not [s for s in secrets if s and s in text], doc["metadata"]["name"]


def test_builtin_kinds_pass_kubernetes_validate_strict(rendered: helm.Rendered) -> None:
    version = kubernetes_validate.latest_version()
    own_kinds = CUSTOM_KINDS | {"SLOAlert", "CustomResourceDefinition"}
    checked = 0
    for doc in rendered.documents:
        if doc["kind"] not in own_kinds:
            kubernetes_validate.validate(doc, version, strict=True)
            checked += 1
    assert checked > 10


def test_containers_stay_restricted_in_the_umbrella(rendered: helm.Rendered) -> None:
    for name, spec in pod_specs(rendered.documents):
        for container in containers(spec):
            context = container["securityContext"]
            assert context["runAsNonRoot"] and context["readOnlyRootFilesystem"], name


# Each wrong value, and the words the refusal must contain (the value it names).
BAD_VALUES = {
    "unknown umbrella key": ({"sloAlert.enabled": True}, "sloAlert"),
    "a switch for no shipped SLO": ({"sloAlerts.slos.nope": True}, "sloAlerts.slos.nope"),
    "a selection label name that is no label": (
        {"selectionLabel.name": "no label!"},
        "selectionLabel/name",
    ),
    "a literal Grafana password": (
        {"kube-prometheus-stack.grafana.adminPassword": "admin"},
        "kube-prometheus-stack.grafana.adminPassword",
    ),
    "a ServiceMonitor Prometheus would not select": (
        {"fastdining-api.serviceMonitor.labels.monitoring\\.fastdining\\.dev/prometheus": "x"},
        "fastdining-api.serviceMonitor.labels",
    ),
    "selection by release name": (
        {"kube-prometheus-stack.prometheus.prometheusSpec.ruleSelectorNilUsesHelmValues": True},
        "ruleSelectorNilUsesHelmValues",
    ),
    "a relay Secret Alertmanager does not mount": (
        {"discord-relay.auth.existingSecret": "my-relay"},
        "alertmanagerSpec.secrets must list my-relay",
    ),
    "a relay name Alertmanager's config does not post to": (
        {"discord-relay.fullnameOverride": "", "discord-relay.nameOverride": "relay"},
        "discord-relay.fullnameOverride",
    ),
    "two switches for the NetworkPolicies": (
        {"networkPolicy.enabled": False},
        "fastdining-api.networkPolicy.enabled must equal networkPolicy.enabled",
    ),
    "Grafana with the chart's own Secret-reading roles": (
        {"kube-prometheus-stack.grafana.rbac.namespaced": False},
        "kube-prometheus-stack.grafana.rbac.namespaced",
    ),
    "SLOAlerts without their CRD": ({"sloalert-operator.enabled": False}, "SLOAlert CRD"),
    "a runbook URL that is no URL": (
        {"grafanaAlerting.runbookUrls.fdc-fastapi-p95-latency": "wiki"},
        "fdc-fastapi-p95-latency",
    ),
    "a string for a switch": ({"dashboards.enabled": "yes"}, "dashboards/enabled"),
}


@pytest.mark.parametrize("case", BAD_VALUES, ids=list(BAD_VALUES))
def test_wrong_values_are_refused_naming_the_value(case: str) -> None:
    sets, words = BAD_VALUES[case]
    with pytest.raises(HelmError) as refused:
        chart_stub.render_umbrella(sets=sets)
    assert words in refused.value.output


def test_existing_kps_scenario_selects_by_the_teams_label(binary: str) -> None:
    """ci/existing-kps-values.yaml: ours next to a kube-prometheus-stack installed as `kps`."""
    scenario = stack_config.UMBRELLA_DIR / "ci" / "existing-kps-values.yaml"
    rendered = chart_stub.render_umbrella(helm=binary, values=[scenario])
    for monitor in rendered.of_kind("ServiceMonitor"):
        assert monitor["metadata"]["labels"]["release"] == "kps"
    assert json.loads(_operator_env(rendered)["SLOALERT_RULE_LABELS"])["release"] == "kps"


def _notes(sets: dict[str, Any]) -> str:
    """NOTES.txt as `helm install --dry-run=client` prints it (helm v4: helm v3's client dry
    run still asks a cluster for its version, and no cluster runs here)."""
    umbrella = chart_stub.built_umbrella("helm")
    args = ["install", "fdc", str(umbrella), "--namespace", "monitoring", "--dry-run=client"]
    for key, value in sets.items():
        args += ["--set", f"{key}={value}"]
    result = subprocess.run(
        [str(require_tool("helm")), *args], capture_output=True, text=True, timeout=120, check=True
    )
    return result.stdout.split("NOTES:", 1)[1]


def test_notes_tell_how_to_reach_grafana_and_read_its_password() -> None:
    notes = _notes({})
    assert "kubectl -n monitoring port-forward svc/fdc-grafana 3000:80" in notes
    assert "get secret fdc-grafana -o jsonpath='{.data.admin-password}' | base64 -d" in notes
    assert "get sloalerts" in notes
    existing = _notes({"kube-prometheus-stack.grafana.admin.existingSecret": "team-grafana"})
    assert "get secret team-grafana" in existing and "fdc-grafana -o" not in existing


def test_notes_without_kps_say_what_the_teams_prometheus_must_select() -> None:
    notes = _notes_of_scenario("existing-kps-values.yaml", release="ours")
    assert "svc/ours-grafana" not in notes and "svc/prometheus-operated" not in notes
    assert "release=kps" in notes
    assert "AlertmanagerConfig ours-fdc-stack-relay" in notes
    # A port-forward, not the API server's service proxy, which the relay's NetworkPolicy
    # does not admit on a cluster where the API server runs off the relay's node.
    assert "port-forward svc/ours-discord-relay 8800:8800" in notes
    assert "/proxy/" not in notes


def _notes_of_scenario(name: str, *, release: str) -> str:
    umbrella = chart_stub.built_umbrella("helm")
    scenario = stack_config.UMBRELLA_DIR / "ci" / name
    return helm.notes(umbrella, release=release, namespace="monitoring", values=[scenario])


def test_checkov_passes_on_the_umbrella(tmp_path: Path) -> None:
    """The component charts' checkov run, with the same skips, over everything the umbrella
    renders of ours (the SLOAlerts and Grafana ConfigMaps included); helm v4 only, as v3
    renders the same objects (test_helm_v3_and_v4_render_the_same_objects) and checkov takes
    ~20 s a run."""
    (tmp_path / "fdc-stack.yaml").write_text(chart_stub.render_umbrella(helm="helm").text)
    for scenario in helm.scenario_files(stack_config.UMBRELLA_DIR):
        rendered = chart_stub.render_umbrella(helm="helm", values=[scenario])
        (tmp_path / f"fdc-stack-{scenario.stem}.yaml").write_text(rendered.text)
    report = run_checkov(tmp_path)
    assert not report.failed, "\n".join(report.failed)
    assert report.passed > 0


def _without_generated_secrets(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The documents with Secret values and the pods' checksums of them blanked: generated
    tokens differ at every render."""
    out = []
    for doc in documents:
        doc = json.loads(json.dumps(doc))
        if doc["kind"] == "Secret":
            doc["data"] = dict.fromkeys(doc.get("data", {}), "")
        if doc["kind"] in POD_OWNERS:
            annotations = doc["spec"]["template"]["metadata"].get("annotations", {})
            for key in [key for key in annotations if key.startswith("checksum/")]:
                annotations[key] = ""
        out.append(doc)
    return out


def test_helm_v3_and_v4_render_the_same_objects() -> None:
    v4, v3 = (chart_stub.render_umbrella(helm=binary).documents for binary in helm.HELM_BINARIES)
    assert _without_generated_secrets(v4) == _without_generated_secrets(v3)
