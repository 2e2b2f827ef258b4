"""A real Kubernetes API server for tests: etcd and `test-apiserver` on loopback, or KUBECONFIG's.

`test-apiserver` (built by `make setup` from `tests/apiserver/`) serves CRDs and custom resources
for real: schemas, CEL rules, defaults, the status subresource, finalizers, watches, patches and
server-side apply. It has no core API (namespaces, events, Secrets), no garbage collector, no RBAC
and no admission webhooks; tests of those run on kind, through `KUBECONFIG`.

    with cluster_for_tests(tmp_path, [crd_yaml]) as cluster:
        with cluster.namespace("slo") as ns:
            kubectl(cluster.kubeconfig, "apply", "-n", ns, "-f", "thing.yaml")
"""

from __future__ import annotations

import base64
import os
import ssl
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

from testkit.kube import kubectl, unique_name
from testkit.processes import LOOPBACK, free_port, run_server
from testkit.tools import require_tool

SERVER_TOOL = "test-apiserver"
# The stock options insist on a kubeconfig for the core API (a client for core informers the server
# never starts); nothing listens on port 1, so nothing is ever sent there.
_NOWHERE_KUBECONFIG = {
    "apiVersion": "v1",
    "kind": "Config",
    "clusters": [{"name": "nowhere", "cluster": {"server": f"https://{LOOPBACK}:1"}}],
    "users": [{"name": "nowhere", "user": {}}],
    "contexts": [{"name": "nowhere", "context": {"cluster": "nowhere", "user": "nowhere"}}],
    "current-context": "nowhere",
}


@dataclass(frozen=True)
class Cluster:
    """A cluster tests may use: `local` is the CRD-only test server, else KUBECONFIG's cluster."""

    kubeconfig: Path
    server: str
    local: bool

    @property
    def env(self) -> dict[str, str]:
        """Environment for a child process (kopf, kubectl, helm) to talk to this cluster."""
        return {"KUBECONFIG": str(self.kubeconfig)}

    @contextmanager
    def namespace(self, prefix: str = "test") -> Iterator[str]:
        """A fresh namespace name for one test.

        The local server has no Namespace objects and needs none: custom resources may live in any
        namespace name. A real cluster gets the namespace created, and deleted afterwards.
        """
        name = unique_name(prefix)
        if self.local:
            yield name
            return
        kubectl(self.kubeconfig, "create", "namespace", name)
        try:
            yield name
        finally:
            kubectl(self.kubeconfig, "delete", "namespace", name, "--wait=false")


@dataclass(frozen=True)
class ApiserverTools:
    etcd: Path
    server: Path


def require_apiserver_tools() -> ApiserverTools:
    """The etcd and test-apiserver binaries, or skip (locally) / fail (under CI) the test."""
    return ApiserverTools(etcd=require_tool("etcd"), server=require_tool(SERVER_TOOL))


@contextmanager
def cluster_for_tests(
    workdir: Path, crds: Sequence[Path], *, stand_ins: Sequence[Path] = ()
) -> Iterator[Cluster]:
    """KUBECONFIG's cluster when it is set, else a local test API server, with `crds` installed.

    `stand_ins` are minimal test copies of CRDs a real cluster may already have (prometheus-
    operator's): the local server gets them all, a real cluster only those it lacks.
    """
    external = cluster_from_env(crds, stand_ins=stand_ins)
    if external is not None:
        yield external
        return
    with run_apiserver(workdir, [*crds, *stand_ins]) as cluster:
        yield cluster


def cluster_from_env(crds: Sequence[Path], *, stand_ins: Sequence[Path] = ()) -> Cluster | None:
    """The cluster KUBECONFIG names, with `crds` server-side applied; None when it is not set.

    Of `stand_ins`, only CRDs the cluster lacks are applied: forcing a stand-in over the real
    definition would take fields away from the resources (and the operator) already using it.
    The cluster is left as it is afterwards (it is not ours): tests clean up their namespaces.
    """
    value = os.environ.get("KUBECONFIG", "")
    if not value:
        return None
    kubeconfig = Path(value)
    if not kubeconfig.is_file():
        raise ValueError(f"KUBECONFIG={value!r} must name one existing kubeconfig file")
    server = kubectl(
        kubeconfig, "config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}"
    )
    cluster = Cluster(kubeconfig=kubeconfig, server=server.strip(), local=False)
    install_crds(cluster, [*crds, *missing_crds(cluster, stand_ins)])
    return cluster


def missing_crds(cluster: Cluster, crds: Sequence[Path]) -> list[Path]:
    """The CRD files whose CustomResourceDefinition (by metadata.name) the cluster lacks."""
    if not crds:
        return []
    present = kubectl(cluster.kubeconfig, "get", "crd", "-o", "jsonpath={.items[*].metadata.name}")
    names = set(present.split())
    return [path for path in crds if _crd_name(path) not in names]


def _crd_name(path: Path) -> str:
    return str(yaml.safe_load(Path(path).read_text())["metadata"]["name"])


@contextmanager
def run_apiserver(
    workdir: Path,
    crds: Sequence[Path],
    *,
    tools: ApiserverTools | None = None,
    timeout: float = 60.0,
) -> Iterator[Cluster]:
    """Start etcd and test-apiserver on loopback, install `crds`, yield, always stop both.

    `workdir` keeps the certificates, etcd's data, both logs and the kubeconfig.
    """
    tools = tools or require_apiserver_tools()
    workdir.mkdir(parents=True, exist_ok=True)
    pki = make_pki(workdir / "pki")
    etcd_url = f"http://{LOOPBACK}:{free_port()}"
    peer_url = f"http://{LOOPBACK}:{free_port()}"
    etcd = [
        tools.etcd,
        "--name=testkit",
        f"--data-dir={workdir / 'etcd'}",
        f"--listen-client-urls={etcd_url}",
        f"--advertise-client-urls={etcd_url}",
        f"--listen-peer-urls={peer_url}",
        f"--initial-advertise-peer-urls={peer_url}",
        f"--initial-cluster=testkit={peer_url}",
        # Test data need not survive a power cut; fsync would dominate every write.
        "--unsafe-no-fsync",
        "--log-level=warn",
    ]
    with (
        run_server(
            etcd,
            ready_url=f"{etcd_url}/health",
            base_url=etcd_url,
            log_path=workdir / "etcd.log",
            timeout=timeout,
        ),
        _run_server(tools.server, workdir, pki, etcd_url, timeout) as server_url,
    ):
        kubeconfig = workdir / "kubeconfig"
        kubeconfig.write_text(yaml.safe_dump(_kubeconfig(server_url, pki)))
        cluster = Cluster(kubeconfig=kubeconfig, server=server_url, local=True)
        install_crds(cluster, crds, timeout=timeout)
        yield cluster


def install_crds(cluster: Cluster, crds: Sequence[Path], *, timeout: float = 60.0) -> None:
    """Server-side apply `crds` and wait until the API server serves them (Established)."""
    missing = [str(path) for path in crds if not Path(path).is_file()]
    if missing:
        raise FileNotFoundError(f"CRD files not found: {', '.join(missing)}")
    if not crds:
        return
    files = [arg for path in crds for arg in ("-f", str(path))]
    kubectl(
        cluster.kubeconfig,
        "apply",
        "--server-side",
        "--force-conflicts",
        "--field-manager=testkit",
        *files,
        timeout=timeout,
    )
    kubectl(
        cluster.kubeconfig,
        "wait",
        "--for=condition=Established",
        f"--timeout={int(timeout)}s",
        *files,
        timeout=timeout + 10,
    )


@dataclass(frozen=True)
class Pki:
    """A throw-away CA, the server's certificate, and a client certificate in system:masters."""

    ca_cert: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def make_pki(directory: Path) -> Pki:
    """Create the certificates with the openssl CLI (EC P-256 keys: fast to generate)."""
    directory.mkdir(parents=True, exist_ok=True)
    _openssl(directory, f"req -x509 -days 2 -subj /CN=testkit-ca {_NEW_KEY} ca.key -out ca.crt")
    _sign(
        directory,
        "server",
        subject=f"/CN={LOOPBACK}",
        extensions=f"subjectAltName=IP:{LOOPBACK},DNS:localhost\nextendedKeyUsage=serverAuth\n",
    )
    # The group system:masters is allowed everything without asking an authorizer.
    _sign(
        directory,
        "client",
        subject="/O=system:masters/CN=testkit-admin",
        extensions="extendedKeyUsage=clientAuth\n",
    )
    return Pki(
        ca_cert=directory / "ca.crt",
        server_cert=directory / "server.crt",
        server_key=directory / "server.key",
        client_cert=directory / "client.crt",
        client_key=directory / "client.key",
    )


_NEW_KEY = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout"


def _sign(directory: Path, name: str, *, subject: str, extensions: str) -> None:
    """name.key and name.crt, signed by ca.key; the subject and extensions hold no spaces."""
    (directory / f"{name}.ext").write_text(extensions)
    _openssl(directory, f"req -subj {subject} {_NEW_KEY} {name}.key -out {name}.csr")
    serial = int.from_bytes(os.urandom(8), "big")
    _openssl(
        directory,
        f"x509 -req -days 2 -in {name}.csr -CA ca.crt -CAkey ca.key -set_serial {serial}"
        f" -extfile {name}.ext -out {name}.crt",
    )


def _openssl(directory: Path, arguments: str) -> None:
    # Run inside `directory` so that every argument is a short relative name without spaces.
    done = subprocess.run(
        ["openssl", *arguments.split()],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"openssl {arguments} failed: {done.stderr.strip()}")


@contextmanager
def _run_server(
    binary: Path, workdir: Path, pki: Pki, etcd_url: str, timeout: float
) -> Iterator[str]:
    port = free_port()
    url = f"https://{LOOPBACK}:{port}"
    nowhere = workdir / "nowhere.kubeconfig"
    nowhere.write_text(yaml.safe_dump(_NOWHERE_KUBECONFIG))
    command = [
        binary,
        f"--etcd-servers={etcd_url}",
        f"--bind-address={LOOPBACK}",
        f"--advertise-address={LOOPBACK}",
        f"--secure-port={port}",
        f"--tls-cert-file={pki.server_cert}",
        f"--tls-private-key-file={pki.server_key}",
        f"--client-ca-file={pki.ca_cert}",
        f"--kubeconfig={nowhere}",
        # Admission plugins, priority and fairness, delegated authentication and authorization
        # default to off in test-apiserver (tests/apiserver/main.go): they need a kube-apiserver.
    ]
    # /readyz answers 500 until every post-start hook is done and the CRD informer has synced.
    client = ssl.create_default_context(cafile=str(pki.ca_cert))
    client.load_cert_chain(pki.client_cert, pki.client_key)
    with run_server(
        command,
        ready_url=f"{url}/readyz",
        base_url=url,
        log_path=workdir / "test-apiserver.log",
        cwd=workdir,
        timeout=timeout,
        verify=client,
    ):
        yield url


def _kubeconfig(server: str, pki: Pki) -> dict[str, object]:
    """A self-contained kubeconfig (certificates inline) for kubectl, kopf and lightkube."""

    def inline(path: Path) -> str:
        return base64.b64encode(path.read_bytes()).decode()

    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "test-apiserver",
                "cluster": {"server": server, "certificate-authority-data": inline(pki.ca_cert)},
            }
        ],
        "users": [
            {
                "name": "testkit-admin",
                "user": {
                    "client-certificate-data": inline(pki.client_cert),
                    "client-key-data": inline(pki.client_key),
                },
            }
        ],
        "contexts": [
            {
                "name": "test-apiserver",
                "context": {"cluster": "test-apiserver", "user": "testkit-admin"},
            }
        ],
        "current-context": "test-apiserver",
    }
