"""One local test API server for all the tests of the server itself (it starts in about 2 s)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lightkube import Client, KubeConfig
from lightkube.generic_resource import create_namespaced_resource
from sloalert import conventions
from testkit.apiserver import Cluster, run_apiserver
from testkit.tools import REPO_ROOT

TESTDATA = Path(__file__).parent / "testdata"
MONITORING_CRDS = sorted((REPO_ROOT / "tests" / "apiserver" / "crds").glob("*.yaml"))
WIDGETS_CRD = TESTDATA / "widgets.yaml"


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    workdir = tmp_path_factory.mktemp("apiserver")
    with run_apiserver(workdir, [*MONITORING_CRDS, WIDGETS_CRD]) as running:
        yield running


@pytest.fixture
def client(cluster: Cluster) -> Iterator[Client]:
    kube = Client(config=KubeConfig.from_file(cluster.kubeconfig), field_manager="apiserver-tests")
    yield kube
    kube.close()


@pytest.fixture
def namespace(cluster: Cluster) -> Iterator[str]:
    with cluster.namespace("apiserver") as name:
        yield name


@pytest.fixture(scope="session")
def widget_kind() -> Any:
    """The test CRD in testdata/widgets.yaml, as a lightkube resource class."""
    return create_namespaced_resource("apiserver-tests.example.com", "v1", "Widget", "widgets")


@pytest.fixture(scope="session")
def rule_kind() -> Any:
    """PrometheusRule, from the minimal monitoring.coreos.com CRDs in tests/apiserver/crds."""
    return create_namespaced_resource(*conventions.PROMETHEUS_RULES)
