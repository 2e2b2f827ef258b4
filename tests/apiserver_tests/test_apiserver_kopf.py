"""kopf, the operator framework, runs against the test API server and its handlers take effect."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kopf
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
    # A registry of its own (the widget operator logs in by its own handler): the process-wide
    # default one may hold another test's handlers (the sloalert operator's) and kopf's
    # fallback logins, chosen when it was made, possibly before KUBECONFIG was set.
    # `kopf run` makes the given registry the default: the previous one is put back after.
    previous = kopf.get_default_registry()
    try:
        with KopfRunner(command, timeout=60, registry=kopf.OperatorRegistry()) as runner:
            client.create(
                widget_kind(metadata={"name": "w", "namespace": namespace}, spec={"size": 4})
            )
            phase = wait_for(
                lambda: (client.get(widget_kind, "w", namespace=namespace).status or {}).get(
                    "phase"
                ),
                what="the kopf handler's status patch",
            )
    finally:
        kopf.set_default_registry(previous)
    assert phase == "seen size 4"
    assert runner.exception is None, runner.output
    assert runner.exit_code == 0, runner.output
    assert "Handler 'mark_seen' succeeded" in runner.output
