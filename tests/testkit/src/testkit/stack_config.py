"""The ONE reader of what the umbrella chart (charts/fdc-stack) ships, for tests and `make local`.

- `alertmanager_config()`: the Alertmanager configuration exactly as the umbrella hands it to
  kube-prometheus-stack (`kube-prometheus-stack.alertmanager.config` in its values.yaml). It is
  written out whole there (every key kps sets by default, since Helm replaces lists), so this is
  also what kps renders into its `alertmanager-<name>` Secret; the umbrella's tests check that
  against the real kps where it is present.
  `make local` and the pipeline test read it from that rendered Secret (`fdc_local.rendered`).
- `grafana_provisioning()`: the Grafana alerting provisioning files (contact point, policy,
  rule groups) as the umbrella's ConfigMap carries them, and `grafana_alert_queries()` every
  PromQL query of the rules.
- `shipped_sloalert_files()`: the SLOAlert files the umbrella installs with its default values.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from testkit.tools import REPO_ROOT

UMBRELLA_DIR = REPO_ROOT / "charts" / "fdc-stack"
VALUES_FILE = UMBRELLA_DIR / "values.yaml"
SLO_DIR = UMBRELLA_DIR / "slo"
GRAFANA_ALERTING_DIR = UMBRELLA_DIR / "files" / "grafana-alerting"
# Key of each provisioning file in the umbrella's ConfigMap, and file name under files/.
GRAFANA_ALERTING_FILES = ("contact-points.yaml", "policies.yaml", "rules.yaml")

# Where the shipped configuration points inside the cluster.
RELAY_FULLNAME = "fdc-discord-relay"
RELAY_PORT = 8800
IN_CLUSTER_RELAY_URL = f"http://{RELAY_FULLNAME}:{RELAY_PORT}"
# kube-prometheus-stack mounts each Secret of `alertmanagerSpec.secrets` here, one folder each.
ALERTMANAGER_SECRETS_DIR = "/etc/alertmanager/secrets"

Config = dict[str, Any]


@cache
def _values() -> Config:
    return yaml.safe_load(VALUES_FILE.read_text(encoding="utf-8"))


def values() -> Config:
    """The umbrella's values.yaml (a fresh copy: callers may change it)."""
    return copy.deepcopy(_values())


def kps_values() -> Config:
    """The `kube-prometheus-stack` section of the umbrella's values."""
    return values()["kube-prometheus-stack"]


def alertmanager_config() -> Config:
    """The Alertmanager configuration the umbrella gives kube-prometheus-stack, as is."""
    return kps_values()["alertmanager"]["config"]


def alertmanager_secrets() -> list[str]:
    """The Secrets mounted into Alertmanager (under /etc/alertmanager/secrets/<name>/)."""
    return list(kps_values()["alertmanager"]["alertmanagerSpec"]["secrets"])


def relay_token_file() -> str:
    """The in-cluster path Alertmanager reads the relay's bearer token from."""
    return f"{ALERTMANAGER_SECRETS_DIR}/{RELAY_FULLNAME}/token"


# ---------------------------------------------------------------------------------------------
# Grafana alerting provisioning


def _load_alerting_file(name: str) -> Config:
    return yaml.safe_load((GRAFANA_ALERTING_DIR / name).read_text(encoding="utf-8"))


def grafana_provisioning() -> dict[str, Config]:
    """Each provisioning file by its ConfigMap key, as the umbrella's template renders it: the
    files of files/grafana-alerting/, with every rule group's `folder` set from
    `grafanaAlerting.folder` and every rule's `runbook_url` from `grafanaAlerting.runbookUrls`.
    """
    settings = values()["grafanaAlerting"]
    files = {name: _load_alerting_file(name) for name in GRAFANA_ALERTING_FILES}
    for group in files["rules.yaml"]["groups"]:
        group["folder"] = settings["folder"]
        for rule in group["rules"]:
            rule.setdefault("annotations", {})["runbook_url"] = settings["runbookUrls"][rule["uid"]]
    return files


def grafana_contact_points() -> list[Config]:
    return grafana_provisioning()["contact-points.yaml"]["contactPoints"]


def grafana_policies() -> list[Config]:
    return grafana_provisioning()["policies.yaml"]["policies"]


def grafana_rule_groups() -> list[Config]:
    return grafana_provisioning()["rules.yaml"]["groups"]


@dataclass(frozen=True)
class GrafanaQuery:
    """One Prometheus query of a Grafana-managed alert rule."""

    rule_uid: str
    rule_title: str
    ref_id: str
    datasource_uid: str
    expr: str
    source: Path  # the file it comes from, for messages naming a dead query

    def __str__(self) -> str:
        return f"{self.source}: rule {self.rule_uid} query {self.ref_id}"


def grafana_alert_queries() -> list[GrafanaQuery]:
    """Every PromQL query (the non-expression data of each rule), in file order."""
    queries = []
    for group in grafana_rule_groups():
        for rule in group["rules"]:
            for data in rule["data"]:
                if data["datasourceUid"] == "__expr__":
                    continue
                queries.append(
                    GrafanaQuery(
                        rule_uid=rule["uid"],
                        rule_title=rule["title"],
                        ref_id=data["refId"],
                        datasource_uid=data["datasourceUid"],
                        expr=data["model"]["expr"],
                        source=GRAFANA_ALERTING_DIR / "rules.yaml",
                    )
                )
    return queries


# ---------------------------------------------------------------------------------------------
# SLOAlerts


def sloalert_name(path: Path) -> str:
    return yaml.safe_load(path.read_text(encoding="utf-8"))["metadata"]["name"]


def all_sloalert_files() -> list[Path]:
    """Every SLOAlert file of the umbrella's copy (slo/), sorted by file name."""
    return sorted(SLO_DIR.glob("*.yaml"))


def shipped_sloalert_files() -> list[Path]:
    """The SLOAlert files the umbrella installs with its default values (switch on in
    `sloAlerts.slos`), sorted by file name; none when `sloAlerts.enabled` is false."""
    settings = values()["sloAlerts"]
    if not settings["enabled"]:
        return []
    return [path for path in all_sloalert_files() if settings["slos"].get(sloalert_name(path))]
