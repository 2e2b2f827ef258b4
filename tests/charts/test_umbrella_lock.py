"""charts/fdc-stack/Chart.lock: in sync with Chart.yaml as Helm computes it, and locking the
component charts' real versions. No chart repository is reachable here, so the lock is written
with `chart_stub.lock_digest`; these tests hold that function to Helm's own digest."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from testkit import chart_stub, helm
from testkit.tools import require_tool

UMBRELLA = helm.chart_path("fdc-stack")


def test_the_committed_lock_matches_chart_yaml() -> None:
    chart = chart_stub.read_yaml(UMBRELLA / "Chart.yaml")
    lock = chart_stub.read_yaml(UMBRELLA / "Chart.lock")
    assert [d["name"] for d in lock["dependencies"]] == [d["name"] for d in chart["dependencies"]]
    for required, locked in zip(chart["dependencies"], lock["dependencies"], strict=True):
        assert locked["repository"] == required["repository"]
    assert lock["digest"] == chart_stub.lock_digest(chart["dependencies"], lock["dependencies"]), (
        "Chart.lock is out of sync with Chart.yaml: `helm dependency update charts/fdc-stack` "
        "where the chart repository is reachable"
    )


def test_the_lock_holds_the_component_charts_versions() -> None:
    for locked in chart_stub.read_yaml(UMBRELLA / "Chart.lock")["dependencies"]:
        if locked["repository"].startswith("file://"):
            component = UMBRELLA / locked["repository"].removeprefix("file://")
            version = chart_stub.read_yaml(component / "Chart.yaml")["version"]
            assert locked["version"] == version, f"{locked['name']}: lock {locked['version']}"


def test_kps_is_locked_on_the_current_major() -> None:
    [kps] = [
        d
        for d in chart_stub.read_yaml(UMBRELLA / "Chart.yaml")["dependencies"]
        if d["name"] == chart_stub.KPS
    ]
    assert kps["repository"] == "https://prometheus-community.github.io/helm-charts"
    assert kps["condition"] == "kube-prometheus-stack.enabled"
    assert chart_stub.locked_version(UMBRELLA, chart_stub.KPS).startswith("88.")


@pytest.mark.parametrize("binary", helm.HELM_BINARIES)
def test_lock_digest_is_the_one_helm_writes(binary: str, tmp_path: Path) -> None:
    """`helm dependency update` locks file:// dependencies offline: its digest must be ours,
    with a range holding `<` and `>` (which Go's JSON escapes)."""
    for name in ("first", "second"):
        (tmp_path / name).mkdir()
        chart = {"apiVersion": "v2", "name": name, "version": "1.2.3"}
        (tmp_path / name / "Chart.yaml").write_text(yaml.safe_dump(chart))
    parent = tmp_path / "parent"
    parent.mkdir()
    dependencies = [
        {"name": "first", "version": ">=1.0.0 <2.0.0", "repository": "file://../first",
         "condition": "first.enabled"},
        {"name": "second", "version": "~1.2", "repository": "file://../second", "alias": "two"},
    ]  # fmt: skip
    chart = {"apiVersion": "v2", "name": "parent", "version": "0.1.0", "dependencies": dependencies}
    (parent / "Chart.yaml").write_text(yaml.safe_dump(chart))
    subprocess.run(
        [str(require_tool(binary)), "dependency", "update", str(parent)],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    lock = chart_stub.read_yaml(parent / "Chart.lock")
    assert lock["digest"] == chart_stub.lock_digest(dependencies, lock["dependencies"])
