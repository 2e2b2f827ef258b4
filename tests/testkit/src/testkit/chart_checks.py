"""Checks shared by the component charts' and the umbrella's tests: pods of rendered manifests,
prometheus-operator's own schemas for its kinds, and one checkov run over a directory of
rendered output (pinned, skips listed once here)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from testkit.tools import REPO_ROOT, require_tool

POD_OWNERS = {"Deployment", "StatefulSet", "DaemonSet", "Job"}
# Kinds whose schema is not built into Kubernetes: checked against their own CRD schema instead
# (`prometheus_operator_errors`).
CUSTOM_KINDS = {"ServiceMonitor", "PrometheusRule", "AlertmanagerConfig"}
# Validates those kinds with the npm package @kubernetes-models/prometheus-operator (`make setup`).
PROMETHEUS_OPERATOR_SCHEMA_SCRIPT = REPO_ROOT / "tests/charts/prometheus_operator_schema.mjs"
_PROMETHEUS_OPERATOR_MODELS = REPO_ROOT / "node_modules/@kubernetes-models/prometheus-operator"
# checkov pins packages the workspace cannot share (packaging < 24): it runs as its own uv tool,
# pinned in this file, which `make setup` reads too.
CHECKOV_REQUIREMENT = (REPO_ROOT / "tests/charts/checkov-requirement.txt").read_text().strip()
# Each skipped checkov check, once, with the reason it does not apply.
CHECKOV_SKIPS = {
    "CKV_K8S_15": "pullPolicy IfNotPresent on purpose: tags are immutable releases, and kind"
    " runs images loaded onto its nodes, never pulled",
    "CKV_K8S_43": "images by tag (appVersion) by default, so that kind runs the images it loads;"
    " `image.digest` pins a published image by digest",
    "CKV_K8S_35": "false positive: secrets are mounted as files; only secretKeyRef env is flagged",
    "CKV2_K8S_6": "NetworkPolicies are a value (`networkPolicy.enabled`): on in the umbrella, off"
    " in the component charts, whose callers' labels the installer knows",
    "CKV_K8S_38": "the operator needs its token (it is an API client); every other pod's automount"
    " is false, asserted by the charts' security-context test",
}


def pod_specs(documents: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(owner name, pod spec) of every workload in the documents."""
    for doc in documents:
        if doc["kind"] in POD_OWNERS:
            yield doc["metadata"]["name"], doc["spec"]["template"]["spec"]


def containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [*spec.get("initContainers", []), *spec["containers"]]


@dataclass(frozen=True)
class CheckovReport:
    failed: list[str]
    passed: int


def run_checkov(directory: Path) -> CheckovReport:
    """checkov's Kubernetes checks over every YAML file in `directory`, offline, in one run."""
    command = [
        str(require_tool("uv")), "tool", "run", "--from", CHECKOV_REQUIREMENT, "checkov",
        "--directory", str(directory), "--framework", "kubernetes", "--skip-download",
        "--quiet", "--compact", "--output", "json", "--skip-check", ",".join(CHECKOV_SKIPS),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"checkov gave no report:\n{result.stdout}{result.stderr}") from None
    parts = report if isinstance(report, list) else [report]
    failed = [
        f"{check['check_id']} {check['check_name']} in {check['resource']} ({check['file_path']})"
        for part in parts
        for check in part.get("results", {}).get("failed_checks", [])
    ]
    passed = sum(part.get("summary", {}).get("passed", 0) for part in parts)
    return CheckovReport(failed=failed, passed=passed)


def prometheus_operator_errors(manifests: dict[str, dict[str, Any]]) -> dict[str, str | None]:
    """Each manifest (by id) checked against prometheus-operator's CRD schema of its kind:
    None when valid, else the validator's message."""
    node = require_tool("node")
    if not _PROMETHEUS_OPERATOR_MODELS.is_dir():
        raise AssertionError(
            "node_modules lacks @kubernetes-models/prometheus-operator: run `make setup`"
        )
    inputs = [{"id": key, "manifest": manifest} for key, manifest in manifests.items()]
    result = subprocess.run(
        [str(node), str(PROMETHEUS_OPERATOR_SCHEMA_SCRIPT)],
        input=json.dumps(inputs),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        cwd=REPO_ROOT,
    )
    return {answer["id"]: answer["error"] for answer in json.loads(result.stdout)}
