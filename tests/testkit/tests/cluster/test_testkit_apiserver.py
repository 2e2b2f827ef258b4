"""testkit.apiserver itself: bad input named, KUBECONFIG's cluster used, processes stopped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import yaml
from testkit.apiserver import (
    ApiserverTools,
    Cluster,
    cluster_from_env,
    install_crds,
    require_apiserver_tools,
    run_apiserver,
)
from testkit.kube import KubectlError, kubectl
from testkit.tools import REPO_ROOT

pytestmark = pytest.mark.apiserver

# The API server tests' own test CRD (a kind nothing else defines).
WIDGETS_CRD = REPO_ROOT / "tests" / "apiserver_tests" / "testdata" / "widgets.yaml"


def test_a_missing_crd_file_is_named(tmp_path: Path) -> None:
    cluster = Cluster(kubeconfig=tmp_path / "kubeconfig", server="https://unused", local=True)
    with pytest.raises(FileNotFoundError, match=r"CRD files not found: .*nope\.yaml"):
        install_crds(cluster, [WIDGETS_CRD, tmp_path / "nope.yaml"])


def test_without_kubeconfig_there_is_no_external_cluster(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBECONFIG", raising=False)
    assert cluster_from_env([WIDGETS_CRD]) is None


def test_a_kubeconfig_that_is_not_a_file_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "absent"))
    with pytest.raises(ValueError, match="absent"):
        cluster_from_env([WIDGETS_CRD])


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with run_apiserver(tmp_path_factory.mktemp("apiserver"), [WIDGETS_CRD]) as running:
        yield running


def test_kubeconfigs_cluster_is_used_and_given_the_crds(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    crd = yaml.safe_load(WIDGETS_CRD.read_text())
    crd["metadata"]["name"] = "widgets.runner-tests.example.com"
    crd["spec"]["group"] = "runner-tests.example.com"
    renamed = tmp_path / "crd.yaml"
    renamed.write_text(yaml.safe_dump(crd))
    monkeypatch.setenv("KUBECONFIG", str(cluster.kubeconfig))

    external = cluster_from_env([renamed])

    assert external is not None
    assert (external.server, external.local) == (cluster.server, False)
    try:
        assert "runner-tests.example.com/v1" in kubectl(cluster.kubeconfig, "api-versions")
    finally:
        kubectl(cluster.kubeconfig, "delete", "-f", str(renamed))


def started_since(before: set[int]) -> list[psutil.Process]:
    return [child for child in psutil.Process().children() if child.pid not in before]


def test_both_processes_stop_even_when_the_test_fails(tmp_path: Path) -> None:
    # Other servers (the session's) may be running: only the ones started here count.
    before = {child.pid for child in psutil.Process().children()}
    with (
        pytest.raises(RuntimeError, match="the test failed"),
        run_apiserver(tmp_path, [WIDGETS_CRD]) as cluster,
    ):
        started = started_since(before)
        assert sorted(child.name() for child in started) == ["etcd", "test-apiserver"]
        raise RuntimeError("the test failed")
    assert not [child for child in started if child.is_running()]
    with pytest.raises(KubectlError):
        kubectl(cluster.kubeconfig, "get", "widgets", "--request-timeout=5s")


def test_a_server_that_dies_at_start_fails_with_its_exit_code(tmp_path: Path) -> None:
    tools = ApiserverTools(etcd=require_apiserver_tools().etcd, server=Path("/bin/false"))
    before = {child.pid for child in psutil.Process().children()}
    with (
        # The message names the program that died: here /bin/false, standing in for the server.
        pytest.raises(RuntimeError, match=r"^false exited with 1 before it was ready"),
        run_apiserver(tmp_path, [], tools=tools),
    ):
        pytest.fail("run_apiserver yielded without a server")
    assert not [child for child in started_since(before) if child.is_running()]
