"""Next to an existing kube-prometheus-stack: where the rendered AlertmanagerConfig sends alerts,
asked of the real `amtool config routes test`.

prometheus-operator merges an AlertmanagerConfig into its Alertmanager's configuration; it does
not run here, so `operator_merge` is a STAND-IN for that step, following prometheus-operator
v0.93's pkg/alertmanager/amcfg.go (its default `OnNamespace` matcher strategy): the object's
route gets `namespace="<its namespace>"` and `continue: true` and goes first among the root's
routes; receivers are named `<namespace>/<object>/<receiver>`. The root is kube-prometheus-stack
88.5.3's default (`alertmanager.config.route`, compared with the real chart's where it is
present). What the chart's README says is checked: alerts labelled with the release's
namespace reach the relay, no other does, and those no longer reach the root receiver.
"""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from testkit import chart_stub, helm, stack_config
from testkit.tools import require_tool

NAMESPACE = "team-a"
# kube-prometheus-stack 88.5.3's default `alertmanager.config` root route and receivers.
KPS_DEFAULT_ROUTE = {
    "group_by": ["namespace"],
    "group_wait": "30s",
    "group_interval": "5m",
    "repeat_interval": "12h",
    "receiver": "null",
    "routes": [{"matchers": ['alertname = "Watchdog"'], "receiver": "null"}],
}
KPS_DEFAULT_RECEIVERS = [{"name": "null"}]


def _matcher(matcher: dict[str, str]) -> str:
    return f'{matcher["name"]}{matcher["matchType"]}"{matcher["value"]}"'


def _route(route: dict[str, Any], prefix: str) -> dict[str, Any]:
    """An AlertmanagerConfig route (camelCase, matcher objects) in Alertmanager's own keys."""
    keys = {"groupBy": "group_by", "groupWait": "group_wait", "groupInterval": "group_interval"}
    keys["repeatInterval"] = "repeat_interval"
    converted: dict[str, Any] = {"receiver": f"{prefix}/{route['receiver']}"}
    converted |= {keys[k]: v for k, v in route.items() if k in keys}
    converted["matchers"] = [_matcher(m) for m in route.get("matchers", [])]
    if route.get("routes"):
        converted["routes"] = [_route(child, prefix) for child in route["routes"]]
    return converted


def operator_merge(amc: dict[str, Any]) -> dict[str, Any]:
    """STAND-IN for prometheus-operator's merge (see the module's docstring)."""
    namespace, name = amc["metadata"]["namespace"], amc["metadata"]["name"]
    prefix = f"{namespace}/{name}"
    top = _route(amc["spec"]["route"], prefix)
    top["matchers"] = [*top["matchers"], f'namespace="{namespace}"']
    top["continue"] = True
    receivers = [
        {"name": f"{prefix}/{r['name']}", "webhook_configs": [{"url": w["url"]}]}
        for r in amc["spec"]["receivers"]
        for w in r["webhookConfigs"]
    ]
    route = {**KPS_DEFAULT_ROUTE, "routes": [top, *KPS_DEFAULT_ROUTE["routes"]]}
    return {"route": route, "receivers": [*KPS_DEFAULT_RECEIVERS, *receivers]}


@pytest.fixture(scope="module")
def config_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    existing = chart_stub.render_umbrella(
        release="ours",
        namespace=NAMESPACE,
        values=[stack_config.UMBRELLA_DIR / "ci" / "existing-kps-values.yaml"],
    )
    path = tmp_path_factory.mktemp("amc") / "alertmanager.yaml"
    path.write_text(yaml.safe_dump(operator_merge(existing.one("AlertmanagerConfig"))))
    return path


def receivers_for(config_file: Path, labels: dict[str, str]) -> list[str]:
    """The receivers `amtool config routes test` resolves for an alert with these labels."""
    command = [str(require_tool("amtool")), "config", "routes", "test"]
    command += [f"--config.file={config_file}", *(f"{k}={v}" for k, v in labels.items())]
    result = subprocess.run(command, capture_output=True, text=True, timeout=30, check=True)
    return sorted(result.stdout.strip().split(","))


RELAY = f"{NAMESPACE}/ours-fdc-stack-relay/discord-relay"


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        # An SLO alert of the release's namespace, ticket and page.
        ({"alertname": "FastapiAvailability", "namespace": NAMESPACE}, [RELAY]),
        (
            {"alertname": "FastapiAvailability", "namespace": NAMESPACE, "sloalert_tier": "page"},
            [RELAY],
        ),
        # kube-prometheus-stack's own alert about a pod of ours: the relay too.
        ({"alertname": "KubePodCrashLooping", "namespace": NAMESPACE}, [RELAY]),
        # Another namespace's alerts, pages included, stay with that Alertmanager's routes.
        ({"alertname": "FastapiAvailability", "namespace": "team-b"}, ["null"]),
        ({"alertname": "X", "namespace": "team-b", "sloalert_tier": "page"}, ["null"]),
        # No namespace label at all (a cluster-wide alert): not ours.
        ({"alertname": "KubeAPIDown"}, ["null"]),
    ],
)
def test_only_alerts_labelled_with_the_release_namespace_reach_the_relay(
    config_file: Path, labels: dict[str, str], expected: list[str]
) -> None:
    assert receivers_for(config_file, labels) == expected


def test_a_page_gets_the_page_timers(config_file: Path) -> None:
    """The page route is nested under the namespace route, with the shipped page timers."""
    [top, _watchdog] = yaml.safe_load(config_file.read_text())["route"]["routes"]
    [page] = top["routes"]
    shipped = stack_config.alertmanager_config()["route"]["routes"]
    [shipped_page] = [r for r in shipped if r["matchers"] == ['sloalert_tier = "page"']]
    assert page["matchers"] == ['sloalert_tier="page"']
    for key in ("group_wait", "group_interval", "repeat_interval"):
        assert page[key] == shipped_page[key], key


def test_the_default_kps_route_is_the_real_charts() -> None:
    archive = chart_stub.real_kps_archive()
    if archive is None:
        pytest.skip("the real kube-prometheus-stack is not here (test_umbrella_real_kps.py)")
    kps = helm.render(archive, release="kps", namespace="monitoring", include_crds=False)
    [secret] = [s for s in kps.of_kind("Secret") if "alertmanager.yaml" in s.get("data", {})]

    config = yaml.safe_load(base64.b64decode(secret["data"]["alertmanager.yaml"]))
    assert config["route"] == KPS_DEFAULT_ROUTE
    assert config["receivers"] == KPS_DEFAULT_RECEIVERS


def test_the_release_namespace_no_longer_reaches_the_root_receiver(
    config_file: Path, tmp_path: Path
) -> None:
    """With a root receiver that pages someone (not kube-prometheus-stack's `null`), alerts of
    the release's namespace go to the relay only: Alertmanager never falls back to the root
    once a child route matched, `continue` or not (the README says so)."""
    config = yaml.safe_load(config_file.read_text())
    config["route"]["receiver"] = "their-pager"
    config["receivers"].append({"name": "their-pager"})
    paging = tmp_path / "alertmanager.yaml"
    paging.write_text(yaml.safe_dump(config))
    assert receivers_for(paging, {"alertname": "X", "namespace": NAMESPACE}) == [RELAY]
    assert receivers_for(paging, {"alertname": "X", "namespace": "team-b"}) == ["their-pager"]
