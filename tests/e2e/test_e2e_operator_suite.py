"""The operator's own cluster suite (its tests marked `apiserver`), run against the kind cluster
with KUBECONFIG set instead of the local test API server.

That suite runs its own operator process against the namespaces it creates; the operator the
install runs would reconcile the same objects and race it, so it is scaled to zero for the run
and brought back (and waited for) afterwards.
"""

from __future__ import annotations

import subprocess
import sys

from testkit.kube import wait_for
from testkit.tools import REPO_ROOT

from .cluster import NAMESPACE, Cluster

# The operator's tests that need a Kubernetes API server (today under operator/tests/cluster).
SUITE = ("-m", "apiserver", "-p", "no:cacheprovider", "-q", "operator")


def test_the_operators_cluster_suite_passes_on_kind(cluster: Cluster) -> None:
    operator = cluster.deployment("sloalert-operator")
    cluster.kubectl("-n", NAMESPACE, "scale", operator, "--replicas=0")
    wait_for(
        lambda: not cluster.items("pod", "-l", "app.kubernetes.io/name=sloalert-operator"),
        what="the installed operator's pod gone",
        timeout=120,
    )
    try:
        suite = subprocess.run(
            [sys.executable, "-m", "pytest", *SUITE],
            cwd=REPO_ROOT,
            env={**cluster.env(), "CI": "true"},
            capture_output=True,
            text=True,
            timeout=1500,
            check=False,
        )
    finally:
        cluster.kubectl("-n", NAMESPACE, "scale", operator, "--replicas=1")
        cluster.kubectl("-n", NAMESPACE, "rollout", "status", operator, "--timeout=180s")
    assert suite.returncode == 0, suite.stdout[-6000:] + suite.stderr[-2000:]
    assert " passed" in suite.stdout, suite.stdout[-3000:]
