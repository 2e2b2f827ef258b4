"""The operator's own cluster suite (its tests marked `apiserver`), run against the kind cluster
with KUBECONFIG set instead of the local test API server.

Never a second operator over the shipped SLOAlerts in `monitoring`:
- the suite's operator watches only its test namespaces (`slo-*`, a kopf glob given through
  SLOALERT_SUITE_NAMESPACES), and the tests that start their own operator process with
  SLOALERT_NAMESPACES stay in theirs;
- the restart test's operator processes watch every namespace, so it is left out here (it runs
  on the test API server in `make test`);
- the installed operator would race the suite's over the test namespaces, so it is scaled to
  zero for the run and brought back (and waited for) afterwards.
A test checks, afterwards, that every shipped rule still carries the installed operator's labels.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from fdc_make import budgets
from sloalert import conventions
from testkit.kube import wait_for
from testkit.tools import REPO_ROOT

from .cluster import NAMESPACE, Cluster

# The operator's tests that need a Kubernetes API server (today under operator/tests/cluster).
SUITE = ("-m", "apiserver", "-p", "no:cacheprovider", "-q", "operator")
LEFT_OUT = ("--deselect", "operator/tests/cluster/test_operator_restart.py")
# The `namespace` fixture of operator/tests/cluster names each test's namespace `slo-<hex>`.
SUITE_NAMESPACES = "slo-*"


def _rule_labels(cluster: Cluster) -> dict[str, dict[str, str]]:
    selector = f"{conventions.MANAGED_BY_LABEL}={conventions.MANAGED_BY}"
    rules = cluster.items("prometheusrule", "-l", selector)
    return {rule["metadata"]["name"]: rule["metadata"].get("labels", {}) for rule in rules}


@pytest.mark.timeout(budgets.OPERATOR_SUITE + 2 * budgets.ROLLOUT)
def test_the_operators_cluster_suite_passes_on_kind(cluster: Cluster) -> None:
    shipped = _rule_labels(cluster)
    operator = cluster.deployment("sloalert-operator")
    cluster.kubectl("-n", NAMESPACE, "scale", operator, "--replicas=0")
    wait_for(
        lambda: not cluster.items("pod", "-l", "app.kubernetes.io/name=sloalert-operator"),
        what="the installed operator's pod gone",
        timeout=budgets.ROLLOUT,
    )
    try:
        suite = subprocess.run(
            [sys.executable, "-m", "pytest", *SUITE, *LEFT_OUT],
            cwd=REPO_ROOT,
            env={**cluster.env(), "CI": "true", "SLOALERT_SUITE_NAMESPACES": SUITE_NAMESPACES},
            capture_output=True,
            text=True,
            timeout=budgets.OPERATOR_SUITE,
            check=False,
        )
    finally:
        cluster.kubectl("-n", NAMESPACE, "scale", operator, "--replicas=1")
        rollout = ("rollout", "status", operator, f"--timeout={budgets.ROLLOUT}s")
        cluster.kubectl("-n", NAMESPACE, *rollout, timeout=budgets.ROLLOUT + 60)
    assert suite.returncode == 0, suite.stdout[-6000:] + suite.stderr[-2000:]
    assert " passed" in suite.stdout, suite.stdout[-3000:]
    # The shipped SLOAlerts' rules were never relabelled by the suite's operator.
    assert shipped and _rule_labels(cluster) == shipped
