"""Fixtures of the end-to-end suite: the kind cluster of `make up`, port-forwards, the stand-in.

`make e2e` (`python3 -m fdc_make e2e`) runs `make up`, builds the Discord stand-in's image and
then this suite with FDC_E2E=1 and FDC_E2E_KUBECONFIG set. Each test's pytest timeout is its
phases' budget (fdc_make.budgets); fixtures are bounded by their own timeouts, not the first test's
(`make e2e` runs pytest with timeout_func_only). Anywhere else (no Docker, no cluster) every
test here skips and says why; under `make e2e` a missing cluster fails instead, so the suite
never passes by skipping.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fdc_make import budgets, kind, prerequisites
from testkit.discord import Standin

from .cluster import NAMESPACE, STANDIN_MANIFEST, Cluster

STANDIN_SERVICE = "discord-standin"
STANDIN_PORT = 8080
GRAFANA_SERVICE = "fdc-grafana"  # `<release>-grafana`, as fdc-stack's NOTES.txt names it


def _unavailable_reason() -> str | None:
    kubeconfig = os.environ.get("FDC_E2E_KUBECONFIG")
    if kubeconfig and Path(kubeconfig).is_file():
        return None
    why = (
        prerequisites.docker_problem()
        or "FDC_E2E_KUBECONFIG names no kubeconfig of a `make up` cluster"
    )
    return (
        f"the end-to-end suite runs against the kind cluster of `make up`, and {why}: run "
        "`make e2e` (needs Docker); without Docker, `make local` runs the stack on loopback"
    )


@pytest.fixture(scope="session")
def cluster() -> Cluster:
    reason = _unavailable_reason()
    if reason is not None:
        if os.environ.get("FDC_E2E") == "1":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return Cluster(kubeconfig=Path(os.environ["FDC_E2E_KUBECONFIG"]))


@pytest.fixture(scope="session")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("e2e-logs")


@pytest.fixture(scope="session")
def prometheus(cluster: Cluster, logs: Path) -> Iterator[str]:
    with cluster.port_forward("prometheus-operated", 9090, "/-/ready", logs) as url:
        yield url


@pytest.fixture(scope="session")
def grafana(cluster: Cluster, logs: Path) -> Iterator[tuple[str, tuple[str, str]]]:
    """Grafana's URL and its admin login, the password read from the Secret the install made."""
    secret = cluster.get("secret", GRAFANA_SERVICE)["data"]
    user, password = (
        base64.b64decode(secret[key]).decode() for key in ("admin-user", "admin-password")
    )
    with cluster.port_forward(GRAFANA_SERVICE, 80, "/api/health", logs) as url:
        yield url, (user, password)


@pytest.fixture(scope="session")
def standin(cluster: Cluster, logs: Path) -> Iterator[Standin]:
    """The Discord stand-in running in the cluster, and the relay re-installed to post to it.

    The re-install is `python3 -m fdc_make install` with DISCORD_WEBHOOK_URL: the same commands
    as `make up`, a second time, so it is also the upgrade-in-place path.
    """
    image = os.environ.get("FDC_E2E_STANDIN_IMAGE", kind.STANDIN_IMAGE)
    manifest = STANDIN_MANIFEST.read_text(encoding="utf-8").replace(kind.STANDIN_IMAGE, image)
    cluster.kubectl("-n", NAMESPACE, "apply", "-f", "-", stdin=manifest)
    cluster.kubectl(
        "-n",
        NAMESPACE,
        "rollout",
        "status",
        f"deployment/{STANDIN_SERVICE}",
        f"--timeout={budgets.ROLLOUT}s",
        timeout=budgets.ROLLOUT + 60,
    )
    with cluster.port_forward(STANDIN_SERVICE, STANDIN_PORT, "/_control/requests", logs) as url:
        stand_in = Standin(port=int(url.rsplit(":", 1)[1]), workdir=logs)
        local_url = stand_in.webhook_url()
        in_cluster = local_url.replace(
            stand_in.base_url, f"http://{STANDIN_SERVICE}.{NAMESPACE}.svc:{STANDIN_PORT}"
        )
        subprocess.run(
            [sys.executable, "-m", "fdc_make", "install"],
            env={**cluster.env(), "DISCORD_WEBHOOK_URL": in_cluster},
            check=True,
            timeout=budgets.INSTALL,
        )
        yield stand_in
