"""Issue 24 (the chart side) and issue 21's existing-kube-prometheus-stack install, on the
rendered umbrella (helm v4 and v3, over the kube-prometheus-stack STAND-IN of testkit.chart_stub;
test_umbrella_real_kps.py checks the same against the real chart where it is present).

- Grafana reads ConfigMaps of its own namespace only: the values passed to the grafana subchart,
  and the Role they bind it to (finding 4).
- NetworkPolicies: who reaches the relay, the metrics ports, the apps and Alertmanager's API
  (finding 7).
- The relay's token Secret holds the token alone (finding 9).
- Next to an existing kube-prometheus-stack: the AlertmanagerConfig, valid for
  prometheus-operator's CRD schema; what a default kube-prometheus-stack cannot reach is refused
  naming the value; two installs in two namespaces.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
from testkit import chart_stub, helm, stack_config
from testkit.chart_checks import CUSTOM_KINDS, POD_OWNERS, prometheus_operator_errors
from testkit.helm import HelmError

EXISTING_KPS = stack_config.UMBRELLA_DIR / "ci" / "existing-kps-values.yaml"
COMPONENTS = ("fastdining-api", "airestaurant", "discord-relay", "sloalert-operator")
SIDECARS = ("dashboards", "datasources", "alerts")


@pytest.fixture(scope="module", params=helm.HELM_BINARIES)
def binary(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def rendered(binary: str) -> helm.Rendered:
    return chart_stub.render_umbrella(helm=binary)


@pytest.fixture(scope="module")
def existing(binary: str) -> helm.Rendered:
    return chart_stub.render_umbrella(
        helm=binary, release="ours", namespace="team-a", values=[EXISTING_KPS]
    )


def _component(rendered: helm.Rendered, kind: str, chart: str) -> dict[str, Any]:
    [doc] = [
        d
        for d in rendered.of_kind(kind)
        if d["metadata"]["labels"].get("app.kubernetes.io/name") == chart
    ]
    return doc


# --- Grafana: ConfigMaps of its own namespace, no Secret -----------------------------------


def test_grafana_sidecars_read_configmaps_of_their_own_namespace() -> None:
    """What the umbrella passes to the grafana subchart (kube-prometheus-stack's defaults are
    `searchNamespace: ALL` and `resource: both`); the Grafana chart sets the sidecars' NAMESPACE
    only for a non-empty searchNamespace (checked in grafana 12.11.1's templates/_pod.tpl)."""
    sidecar = stack_config.kps_values()["grafana"]["sidecar"]
    for name in SIDECARS:
        assert sidecar[name]["resource"] == "configmap", name
        assert sidecar[name]["searchNamespace"] == "", name


def test_grafana_is_bound_to_a_role_reading_configmaps_only(rendered: helm.Rendered) -> None:
    """The Grafana chart's own ClusterRole and Role grant configmaps AND secrets to any sidecar
    (grafana 12.11.1's clusterrole.yaml, role.yaml): with `rbac.namespaced` and
    `useExistingRole` it renders neither and binds the umbrella's Role."""
    rbac = stack_config.kps_values()["grafana"]["rbac"]
    assert rbac["namespaced"] is True and rbac.get("create", True) is True
    assert not rbac.get("extraClusterRoleRules") and not rbac.get("extraRoleRules")
    [role] = [
        r for r in rendered.of_kind("Role") if r["metadata"]["name"] == rbac["useExistingRole"]
    ]
    assert role["metadata"]["namespace"] == "monitoring"
    assert role["rules"] == [
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"]}
    ]
    for doc in rendered.documents:
        if doc["kind"] in {"ClusterRole", "Role"}:
            for rule in doc.get("rules", []):
                assert "secrets" not in rule.get("resources", []), doc["metadata"]["name"]


# --- NetworkPolicies ------------------------------------------------------------------------


def _peers(policy: dict[str, Any]) -> list[dict[str, Any]]:
    return [peer for rule in policy["spec"].get("ingress", []) for peer in rule["from"]]


def _ports(policy: dict[str, Any]) -> set[Any]:
    return {port["port"] for rule in policy["spec"]["ingress"] for port in rule.get("ports", [])}


def _pod_label(name: str) -> dict[str, Any]:
    return {"podSelector": {"matchLabels": {"app.kubernetes.io/name": name}}}


def test_every_pod_of_ours_and_alertmanager_has_a_network_policy(rendered: helm.Rendered) -> None:
    policies = rendered.of_kind("NetworkPolicy")
    version = kubernetes_validate.latest_version()
    for policy in policies:
        kubernetes_validate.validate(policy, version, strict=True)
        assert policy["spec"]["policyTypes"] == ["Ingress"]
    selected = [p["spec"]["podSelector"]["matchLabels"] for p in policies]
    for workload in (d for d in rendered.documents if d["kind"] in POD_OWNERS):
        labels = workload["spec"]["template"]["metadata"]["labels"]
        assert [s for s in selected if s.items() <= labels.items()], workload["metadata"]["name"]
    assert {"app.kubernetes.io/name": "alertmanager"} in selected


def test_the_relay_takes_only_alertmanager_grafana_and_prometheus(rendered: helm.Rendered) -> None:
    policy = _component(rendered, "NetworkPolicy", "discord-relay")
    assert _ports(policy) == {"http"}
    peers = _peers(policy)
    assert sorted(map(str, peers)) == sorted(
        map(str, [_pod_label("alertmanager"), _pod_label("grafana"), _pod_label("prometheus")])
    )
    [container] = _component(rendered, "Deployment", "discord-relay")["spec"]["template"]["spec"][
        "containers"
    ]
    assert {p["name"]: p["containerPort"] for p in container["ports"]} == {"http": 8800}


@pytest.mark.parametrize("chart", ["fastdining-api", "airestaurant", "sloalert-operator"])
def test_apps_and_metrics_ports_take_only_prometheus(rendered: helm.Rendered, chart: str) -> None:
    """The umbrella's apps: Prometheus only (no ingress is configured in the demo; the chart's
    `networkPolicy.ingressFrom` adds one); the port named is the container's."""
    policy = _component(rendered, "NetworkPolicy", chart)
    assert _peers(policy) == [_pod_label("prometheus")]
    spec = _component(rendered, "Deployment", chart)["spec"]["template"]["spec"]
    names = {port["name"] for c in spec["containers"] for port in c.get("ports", [])}
    assert _ports(policy) <= names and _ports(policy)


def _alertmanager_policy(rendered: helm.Rendered) -> dict[str, Any]:
    [policy] = [
        p
        for p in rendered.of_kind("NetworkPolicy")
        if p["spec"]["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "alertmanager"}
    ]
    return policy


def test_alertmanagers_api_only_from_prometheus_its_peers_and_grafana(
    rendered: helm.Rendered,
) -> None:
    """Pods of the release's namespace only (no namespaceSelector), and of those only
    Prometheus, the Alertmanager replicas (peering on 9094, every port: no `ports`) and
    Grafana: the apps share the namespace and must not post alerts or silences."""
    policy = _alertmanager_policy(rendered)
    [rule] = policy["spec"]["ingress"]
    assert "ports" not in rule
    assert sorted(map(str, rule["from"])) == sorted(
        map(str, [_pod_label("alertmanager"), _pod_label("grafana"), _pod_label("prometheus")])
    )
    for workload in (d for d in rendered.documents if d["kind"] in POD_OWNERS):
        labels = workload["spec"]["template"]["metadata"]["labels"]
        admitted = [
            peer
            for peer in rule["from"]
            if peer["podSelector"]["matchLabels"].items() <= labels.items()
        ]
        assert not admitted, f"{workload['metadata']['name']} may reach Alertmanager"


def test_alertmanager_without_peers_takes_nothing_not_everything(tmp_path: Path) -> None:
    values = tmp_path / "no-peers.yaml"
    values.write_text("networkPolicy: {alertmanagerFrom: []}\n")
    rendered = chart_stub.render_umbrella(values=[values])
    assert _alertmanager_policy(rendered)["spec"]["ingress"] == []


def test_no_peers_means_no_ingress_not_everyone(tmp_path: Path) -> None:
    """An empty `from` admits every source: with no peer the chart renders no ingress rule."""
    values = tmp_path / "no-peers.yaml"
    values.write_text("networkPolicy: {enabled: true, metricsFrom: []}\n")
    policy = helm.render("sloalert-operator", values=[values]).one("NetworkPolicy")
    assert policy["spec"]["ingress"] == []


# --- The relay's token Secret ---------------------------------------------------------------


def test_alertmanager_mounts_a_secret_holding_only_the_token(rendered: helm.Rendered) -> None:
    [mounted] = stack_config.alertmanager_secrets()
    [secret] = [s for s in rendered.of_kind("Secret") if s["metadata"]["name"] == mounted]
    assert set(secret["data"]) == {"token"}
    with_webhook = chart_stub.render_umbrella(
        sets={"discord-relay.discord.existingSecret": "discord-webhook"}
    )
    [secret] = [s for s in with_webhook.of_kind("Secret") if s["metadata"]["name"] == mounted]
    assert set(secret["data"]) == {"token"}


# --- Next to an existing kube-prometheus-stack ------------------------------------------------


def test_the_alertmanager_config_validates_against_prometheus_operators_schema(
    existing: helm.Rendered,
) -> None:
    config = existing.one("AlertmanagerConfig")
    errors = prometheus_operator_errors({"amc": config})
    assert errors == {"amc": None}
    # The check can fail: a matcher type the CRD does not know is refused.
    broken = {
        **config,
        "spec": {**config["spec"], "route": {"matchers": [{"name": "x", "matchType": "~"}]}},
    }
    assert prometheus_operator_errors({"broken": broken})["broken"]


def test_no_alertmanager_config_beside_the_umbrellas_own_alertmanager(
    rendered: helm.Rendered,
) -> None:
    """With kube-prometheus-stack installed here, its config routes to the relay already."""
    assert rendered.of_kind("AlertmanagerConfig") == []


def test_the_alertmanager_config_routes_to_this_releases_relay(existing: helm.Rendered) -> None:
    config = existing.one("AlertmanagerConfig")
    assert config["metadata"]["namespace"] == "team-a"
    [receiver] = config["spec"]["receivers"]
    [webhook] = receiver["webhookConfigs"]
    service = _component(existing, "Service", "discord-relay")
    port = service["spec"]["ports"][0]["port"]
    assert webhook["url"] == f"http://{service['metadata']['name']}.team-a.svc:{port}/alertmanager"
    credentials = webhook["httpConfig"]["authorization"]["credentials"]
    [secret] = [
        s for s in existing.of_kind("Secret") if s["metadata"]["name"] == credentials["name"]
    ]
    assert set(secret["data"]) == {credentials["key"]} == {"token"}
    shipped = stack_config.alertmanager_config()
    route = config["spec"]["route"]
    assert route["groupBy"] == shipped["route"]["group_by"]
    assert route["repeatInterval"] == shipped["route"]["repeat_interval"]
    [page] = route["routes"]
    assert page["matchers"] == [{"name": "sloalert_tier", "matchType": "=", "value": "page"}]
    [inhibit] = config["spec"]["inhibitRules"]
    assert "namespace" in inhibit["equal"]


def test_the_existing_kps_scenario_needs_no_fixed_name(existing: helm.Rendered) -> None:
    """Two installs in two namespaces: every name of ours follows the release, and nothing of
    ours is cluster-scoped but the SLOAlert CRD and the operator's ClusterRole(Binding)."""
    other = chart_stub.render_umbrella(release="theirs", namespace="team-b", values=[EXISTING_KPS])
    names = {(d["kind"], d["metadata"]["name"]) for d in existing.documents}
    other_names = {(d["kind"], d["metadata"]["name"]) for d in other.documents}
    shared = names & other_names
    assert {kind for kind, _ in shared} <= {
        "CustomResourceDefinition",
        "SLOAlert",  # namespaced: same shipped names, different namespaces
    }, shared
    relay = _component(other, "Service", "discord-relay")
    assert relay["metadata"]["name"] == "theirs-discord-relay"


def _watched(rendered: helm.Rendered) -> str:
    [container] = _component(rendered, "Deployment", "sloalert-operator")["spec"]["template"][
        "spec"
    ]["containers"]
    return {env["name"]: env.get("value") for env in container["env"]}["SLOALERT_NAMESPACES"]


def test_two_installs_run_operators_on_disjoint_namespaces_as_the_readme_says() -> None:
    """The scenario alone: one operator watching every namespace. Two installs would run two;
    the README's two ways out: each watches its own namespace, or one operator in all."""
    readme = (stack_config.UMBRELLA_DIR / "README.md").read_text()
    watch = "--set 'sloalert-operator.watchNamespaces={team-a}'"
    assert watch in readme and "--set sloalert-operator.enabled=false" in readme
    assert _watched(chart_stub.render_umbrella(release="ours", values=[EXISTING_KPS])) == ""
    one, other = (
        chart_stub.render_umbrella(
            release=release,
            namespace=namespace,
            values=[EXISTING_KPS],
            extra_args=["--set", f"sloalert-operator.watchNamespaces={{{namespace}}}"],
        )
        for release, namespace in (("ours", "team-a"), ("theirs", "team-b"))
    )
    assert (_watched(one), _watched(other)) == ("team-a", "team-b")
    alone = chart_stub.render_umbrella(
        release="theirs",
        namespace="team-b",
        values=[EXISTING_KPS],
        sets={"sloalert-operator.enabled": False},
        extra_args=["--api-versions", "slo.fastdining.dev/v1alpha1/SLOAlert"],
    )
    names = {d["metadata"]["labels"].get("app.kubernetes.io/name") for d in alone.documents}
    assert "sloalert-operator" not in names and "discord-relay" in names
    assert alone.of_kind("SLOAlert")


EXISTING_KPS_REFUSALS = {
    "the umbrella's own selection label": (
        {"selectionLabel.name": "monitoring.fastdining.dev/prometheus"},
        "selectionLabel",
    ),
    "Grafana alerting without an alerts sidecar": (
        {"grafanaAlerting.enabled": True},
        "grafanaAlerting.enabled=false",
    ),
    "a Prometheus URL of this namespace": (
        {"sloalert-operator.prometheus.url": "http://prometheus-operated:9090"},
        "sloalert-operator.prometheus.url",
    ),
    "a root route with no webhook to translate": (
        {"kube-prometheus-stack.alertmanager.config.route.receiver": "null"},
        'kube-prometheus-stack.alertmanager.config: the root route\'s receiver "null"',
    ),
}


@pytest.mark.parametrize("case", EXISTING_KPS_REFUSALS, ids=list(EXISTING_KPS_REFUSALS))
def test_what_a_default_kps_cannot_reach_is_refused_naming_the_value(case: str) -> None:
    sets, words = EXISTING_KPS_REFUSALS[case]
    with pytest.raises(HelmError) as refused:
        chart_stub.render_umbrella(values=[EXISTING_KPS], sets=sets)
    assert words in refused.value.output


def test_the_existing_kps_scenario_renders_with_both_helms(existing: helm.Rendered) -> None:
    kinds = {d["kind"] for d in existing.documents}
    assert {"AlertmanagerConfig", "NetworkPolicy", "ServiceMonitor"} <= kinds
    for monitor in existing.of_kind("ServiceMonitor"):
        assert monitor["metadata"]["labels"]["release"] == "kps"
    version = kubernetes_validate.latest_version()
    own_kinds = CUSTOM_KINDS | {"SLOAlert", "CustomResourceDefinition"}
    for doc in existing.documents:
        if doc["kind"] not in own_kinds:
            kubernetes_validate.validate(doc, version, strict=True)
    data = {
        k: base64.b64decode(v) for s in existing.of_kind("Secret") for k, v in s["data"].items()
    }
    assert "webhook-url" not in data  # no webhook given: the relay is a log sink
