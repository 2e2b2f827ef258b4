"""The example corpus (operator/testdata) against the real API server and the operator.

Each invalid example says who refuses it first: the CRD's schema, strict field validation,
a CEL rule (all three at the API server, as `kubectl create` shows them to a person), or only
sloalert (the server accepts it; the operator reports Ready=False naming the field). Every
valid example ends Ready=True with its rule written.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from lightkube import Client
from testkit import apiserver
from testkit import sloalert_testdata as corpus
from testkit.kube import KubectlError, kubectl, wait_for
from testkit.sloalert_cluster import PrometheusRule, SLOAlert, condition, get_or_none

from cluster.conftest import InProcessOperator

pytestmark = pytest.mark.apiserver


SERVER_REFUSES = [e for e in corpus.invalid() if e.refused_by != "sloalert"]
OPERATOR_REFUSES = [e for e in corpus.invalid() if e.refused_by == "sloalert"]


def placed(example: Any, namespace: str) -> dict[str, Any]:
    """The example in `namespace`, without what the server sets (uid, resourceVersion, ...)."""
    body = copy.deepcopy(example.body)
    metadata = body["metadata"]
    body["metadata"] = {
        "name": metadata["name"],
        "namespace": namespace,
        **{key: metadata[key] for key in ("labels", "annotations") if key in metadata},
    }
    body.pop("status", None)
    return body


@pytest.mark.parametrize("example", SERVER_REFUSES, ids=lambda e: e.id)
def test_the_api_server_refuses_it_naming_the_field(
    cluster: apiserver.Cluster, namespace: str, example: Any
) -> None:
    manifest = yaml.safe_dump(placed(example, namespace))
    with pytest.raises(KubectlError) as refused:
        kubectl(cluster.kubeconfig, "create", "-f", "-", stdin=manifest)
    assert example.field in refused.value.stderr, refused.value.stderr


def created_then_ready(
    kube: Client, namespace: str, examples: list[Any]
) -> Iterator[tuple[Any, str, dict[str, Any]]]:
    """Create every example first (the operator works on them all at once), then yield each
    with its name and Ready condition once it has one."""
    for example in examples:
        kube.create(SLOAlert(placed(example, namespace)))
    for example in examples:
        name = example.body["metadata"]["name"]
        ready = wait_for(
            lambda name=name: condition(kube.get(SLOAlert, name, namespace=namespace), "Ready"),
            what=f"a Ready condition on {name}",
        )
        yield example, name, ready


def test_what_only_sloalert_refuses_is_accepted_then_reported_not_ready(
    kube: Client, namespace: str, operator: InProcessOperator
) -> None:
    for example, name, ready in created_then_ready(kube, namespace, OPERATOR_REFUSES):
        assert (ready["status"], ready["reason"]) == ("False", "InvalidSpec"), example.id
        assert f"{example.field}: " in ready["message"], (example.id, ready["message"])
        assert example.says in ready["message"], (example.id, ready["message"])
        assert get_or_none(kube, PrometheusRule, name, namespace) is None, example.id


def test_every_valid_example_gets_its_rule_and_is_ready(
    kube: Client, namespace: str, operator: InProcessOperator
) -> None:
    for example, name, ready in created_then_ready(kube, namespace, corpus.valid()):
        assert (ready["status"], ready["reason"]) == ("True", "RulesApplied"), example.id
        assert get_or_none(kube, PrometheusRule, name, namespace) is not None, example.id
