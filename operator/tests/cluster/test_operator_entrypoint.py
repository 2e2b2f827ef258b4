"""`sloalert-operator`, the container's command: its settings decide what it does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from lightkube import Client
from testkit import apiserver
from testkit.kube import wait_for
from testkit.logs import json_lines
from testkit.sloalert_cluster import (
    RULE_LABELS,
    PrometheusRule,
    SLOAlert,
    condition,
    delete_namespace_objects,
    get_or_none,
    operator_process,
    prometheus,
    sloalert,
)

OPERATOR = Path(sys.executable).with_name("sloalert-operator")


@pytest.mark.integration
def test_a_bad_setting_stops_it_before_it_starts_naming_the_variable() -> None:
    done = subprocess.run(
        [OPERATOR],
        env={**os.environ, "SLOALERT_LOG_FORMAT": "xml", "SLOALERT_NAMESPACES": "ok,Not_OK"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    [refusal] = json_lines(done.stdout + done.stderr)  # one line, in the shared JSON shape
    assert refusal["level"] == "critical"
    assert "SLOALERT_LOG_FORMAT='xml'" in refusal["fields"]["problems"]
    assert "'Not_OK' is not a namespace name" in refusal["fields"]["problems"]


@pytest.mark.apiserver
def test_it_watches_only_the_namespaces_it_is_given(
    cluster: apiserver.Cluster, kube: Client, tmp_path: Path
) -> None:
    with cluster.namespace("watched") as watched, cluster.namespace("ignored") as ignored:
        kube.create(sloalert("checkout", ignored))
        # As its image runs it: JSON lines, the shape every fastdining process writes.
        env = {"SLOALERT_NAMESPACES": watched, "SLOALERT_LOG_FORMAT": "json"}
        with operator_process(cluster.kubeconfig, tmp_path / "operator.log", env=env) as running:
            kube.create(sloalert("checkout", watched))
            wait_for(
                lambda: (
                    (c := condition(kube.get(SLOAlert, "checkout", namespace=watched), "Ready"))
                    and c["status"] == "True"
                ),
                what="Ready=True in the watched namespace",
            )
            lines = json_lines(running.log())
        about_checkout = [line for line in lines if line["fields"].get("k8s_ref", {}).get("name")]
        assert about_checkout, "kopf's lines name the object they are about"
        assert not [line for line in lines if "settings" in line["fields"]]
        # The ignored one was there first, and has neither rule nor status.
        assert get_or_none(kube, PrometheusRule, "checkout", ignored) is None
        assert not kube.get(SLOAlert, "checkout", namespace=ignored).status
        for namespace in (watched, ignored):
            kube.delete(SLOAlert, "checkout", namespace=namespace)
        kube.delete(PrometheusRule, "checkout", namespace=watched)


@pytest.mark.apiserver
def test_watching_some_namespaces_it_cannot_tell_that_no_prometheus_loads_a_rule(
    cluster: apiserver.Cluster, kube: Client, tmp_path: Path
) -> None:
    """A Prometheus outside the watched namespaces is invisible to it (kopf watches every kind
    in the same namespaces): one there may load the rule, so Selected is Unknown, not False."""
    with cluster.namespace("watched") as watched, cluster.namespace("elsewhere") as elsewhere:
        try:
            kube.create(prometheus("loads-all", elsewhere, RULE_LABELS))
            kube.create(prometheus("k8s", watched, {"matchLabels": {"release": "other-stack"}}))
            env = {"SLOALERT_NAMESPACES": watched}
            with operator_process(cluster.kubeconfig, tmp_path / "operator.log", env=env):
                kube.create(sloalert("checkout", watched))
                selected = wait_for(
                    lambda: condition(
                        kube.get(SLOAlert, "checkout", namespace=watched), "Selected"
                    ),
                    what="a Selected condition",
                )
        finally:
            for namespace in (watched, elsewhere):
                delete_namespace_objects(kube, namespace)
    assert (selected["status"], selected["reason"]) == ("Unknown", "PrometheusesNotWatched")
    assert f"it watches namespaces {watched} only" in selected["message"]
    assert f"Prometheus {watched}/k8s selects rules with release=other-stack" in selected["message"]
