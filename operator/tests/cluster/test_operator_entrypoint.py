"""`sloalert-operator`, the container's command: its settings decide what it does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from lightkube import Client
from testkit import apiserver
from testkit.sloalert_cluster import (
    PrometheusRule,
    SLOAlert,
    condition,
    get_or_none,
    operator_process,
    sloalert,
    wait_for,
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
    assert "SLOALERT_LOG_FORMAT='xml'" in done.stderr
    assert "'Not_OK' is not a namespace name" in done.stderr


@pytest.mark.apiserver
def test_it_watches_only_the_namespaces_it_is_given(
    cluster: apiserver.Cluster, kube: Client, tmp_path: Path
) -> None:
    with cluster.namespace("watched") as watched, cluster.namespace("ignored") as ignored:
        kube.create(sloalert("checkout", ignored))
        env = {"SLOALERT_NAMESPACES": watched}
        with operator_process(cluster.kubeconfig, tmp_path / "operator.log", env=env):
            kube.create(sloalert("checkout", watched))
            wait_for(
                lambda: (
                    (c := condition(kube.get(SLOAlert, "checkout", namespace=watched), "Ready"))
                    and c["status"] == "True"
                ),
                what="Ready=True in the watched namespace",
            )
        # The ignored one was there first, and has neither rule nor status.
        assert get_or_none(kube, PrometheusRule, "checkout", ignored) is None
        assert not kube.get(SLOAlert, "checkout", namespace=ignored).status
        for namespace in (watched, ignored):
            kube.delete(SLOAlert, "checkout", namespace=namespace)
        kube.delete(PrometheusRule, "checkout", namespace=watched)
