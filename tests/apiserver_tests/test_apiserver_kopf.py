"""kopf, the operator framework, runs against the test API server and its handlers take effect."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from kopf.testing import KopfRunner
from lightkube import Client
from testkit.apiserver import Cluster
from testkit.kube import wait_for

pytestmark = pytest.mark.apiserver

OPERATOR = Path(__file__).parent / "testdata" / "widget_operator.py"


def test_a_kopf_create_handler_patches_the_new_resources_status(
    cluster: Cluster,
    client: Client,
    namespace: str,
    widget_kind: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # kopf runs in a thread of this process and logs in with the kubeconfig KUBECONFIG names.
    monkeypatch.setenv("KUBECONFIG", str(cluster.kubeconfig))
    command = ["run", "--standalone", "--all-namespaces", "--verbose", str(OPERATOR)]
    with KopfRunner(command, timeout=60) as runner:
        client.create(widget_kind(metadata={"name": "w", "namespace": namespace}, spec={"size": 4}))
        phase = wait_for(
            lambda: (client.get(widget_kind, "w", namespace=namespace).status or {}).get("phase"),
            what="the kopf handler's status patch",
        )
    assert phase == "seen size 4"
    assert runner.exception is None, runner.output
    assert runner.exit_code == 0, runner.output
    assert "Handler 'mark_seen' succeeded" in runner.output
