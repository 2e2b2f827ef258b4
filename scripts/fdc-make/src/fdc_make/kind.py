"""The kind path's ground: what it builds and installs (names, the install commands), what each
target says without Docker, its prerequisites (Docker first, so without it nothing is installed;
then kind, kubectl and helm, only absent ones installed into .tools/), and the cluster itself
(`Kind`: the tools found and the cluster's own kubeconfig, which every kubectl and helm command
talks to). images.py, stack.py and forwards.py do the rest; cli.py lists the commands.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fdc_make import kind_release, prerequisites

ROOT = Path(__file__).resolve().parents[4]
TOOLS_DIR = ROOT / ".tools"
TOOLS_BIN = TOOLS_DIR / "bin"
CLUSTER_CONFIG = "manifests/kind/cluster.yaml"
# The release and namespaces of the install commands below, and of manifests/namespaces.yaml.
RELEASE = "fdc"
NAMESPACE = "monitoring"
NODE_EXPORTER_NAMESPACE = "monitoring-node-exporter"
# Each component chart and the Dockerfile of the image it runs.
IMAGE_DOCKERFILES = {
    "fastdining-api": "services/fastdining-api/Dockerfile",
    "airestaurant": "services/airestaurant/Dockerfile",
    "discord-relay": "services/discord-relay/Dockerfile",
    "sloalert-operator": "operator/Dockerfile",
}
# The images `make up` builds and loads carry this repository prefix, never the published one
# (ghcr.io/<owner>/...): a local build cannot be mistaken for a release. The install is told so.
LOCAL_REPOSITORY = "fdc.local/fastdining"
# TEST ONLY: the Discord stand-in of testkit, built and loaded by `e2e` alone.
STANDIN_IMAGE = "fastdining/discord-standin:e2e"
STANDIN_DOCKERFILE = "tests/testkit/Dockerfile"

# BEGIN install commands (charts/fdc-stack/README.md quotes every command line; a test checks).
# helm returns once the objects are written: wait_rollouts below waits for them to run.
INSTALL_DEPENDENCIES = (
    "helm repo add prometheus-community https://prometheus-community.github.io/helm-charts",
    "helm dependency build charts/fdc-stack",
)
CREATE_NAMESPACES = ("kubectl apply -f manifests/namespaces.yaml",)
INSTALL_LOG_SINK = (
    "helm upgrade --install fdc charts/fdc-stack --namespace monitoring --create-namespace",
)
# The webhook from a file into a Secret, never with --set (process list, `helm get values`).
INSTALL_WITH_WEBHOOK = (
    "kubectl -n monitoring create secret generic discord-webhook"
    " --from-file=webhook-url=./discord-webhook-url",
    "helm upgrade --install fdc charts/fdc-stack -n monitoring"
    " --set discord-relay.discord.existingSecret=discord-webhook",
)
# END install commands
# The Kubernetes Secret the webhook goes into (its name, as the command above says).
WEBHOOK_OBJECT = "discord-webhook"
# Port-forwards: name -> (Service, local port, Service port), as fdc-stack's NOTES.txt names them.
FORWARDS = {
    "grafana": (f"svc/{RELEASE}-grafana", 3000, 80),
    "prometheus": ("svc/prometheus-operated", 9090, 9090),
    "alertmanager": ("svc/alertmanager-operated", 9093, 9093),
}


class Stop(Exception):
    """Stop the command: the message says why and what to do; `code` is the exit status."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def say(text: str) -> None:
    print(f"\n== {text}", flush=True)


def cluster_name(root: Path = ROOT) -> str:
    match = re.search(r"^name:\s*(\S+)", (root / CLUSTER_CONFIG).read_text(encoding="utf-8"), re.M)
    if match is None:
        raise Stop(f"{CLUSTER_CONFIG} names no cluster (name: ...)")
    return match.group(1)


# ---------------------------------------------------------------------------------------------
# Without Docker: stop before anything else runs, saying something true for the target.

NO_DOCKER_NEXT = """Without Docker, run instead:
  make local   # the whole stack as processes on 127.0.0.1, no cluster
  make test    # every test that needs no cluster"""


def no_docker_message(target: str, why: str) -> str:
    """What each target says without Docker: why it needs Docker, and what to run instead."""
    if target == "down":
        return f"make down: nothing to delete: kind clusters run in Docker, and {why}."
    if target == "grafana":
        return (
            f"make grafana port-forwards to Grafana in the kind cluster of make up, which runs in "
            f"Docker, and {why}. Without Docker there is no Grafana here: make local runs the "
            "rest of the stack on 127.0.0.1; import charts/fdc-stack/dashboards/*.json into any "
            "Grafana pointed at its Prometheus (http://127.0.0.1:9090)."
        )
    if target in ("prometheus", "alertmanager"):
        port = FORWARDS[target][1]
        return (
            f"make {target} port-forwards to {target.capitalize()} in the kind cluster of make "
            f"up, which runs in Docker, and {why}. Without Docker, make local runs "
            f"{target.capitalize()} itself on http://127.0.0.1:{port}."
        )
    doing = {
        "images": "builds the images with Docker",
        "up": "builds the images and runs the kind cluster in Docker",
        "e2e": "runs make up (images and the kind cluster, in Docker), then tests/e2e against it",
        "load-kind": "sends traffic into the kind cluster of make up, which runs in Docker",
    }.get(target, "needs Docker")
    return (
        f"make {target} needs a Docker engine: it {doing}, and {why}.\n"
        f"{prerequisites.docker_advice()} to run the stack on kind. {NO_DOCKER_NEXT}\n"
        "Nothing was installed."
    )


def require_docker(target: str) -> None:
    why = prerequisites.docker_problem()
    if why is not None:
        raise Stop(no_docker_message(target, why), code=0 if target == "down" else 2)


def install_absent(names: list[str]) -> None:
    say(f"not on PATH, or too old: installing into .tools/bin: {' '.join(names)}")
    subprocess.run([str(ROOT / "scripts" / "install-tools.sh"), *names], check=True)


def helm_name() -> str:
    return os.environ.get("HELM", "helm")


def needs(target: str) -> tuple[str, ...]:
    """The tools a target runs besides Docker (helm: $HELM's): `preflight` checks them before the
    Makefile's `make sync` (minutes, on a fresh clone) for e2e and load-kind."""
    if target == "images":
        return ()
    if target in ("up", "e2e"):
        return ("kind", "kubectl", helm_name())
    return ("kind", "kubectl")


def require(target: str, *names: str) -> dict[str, Path]:
    """Docker first, then the named tools (absent ones installed): their paths by name."""
    require_docker(target)
    try:
        return prerequisites.resolve(names, TOOLS_BIN, install_absent).paths
    except prerequisites.Missing as missing:
        raise Stop(f"make {target} needs:\n{missing}", code=2) from missing


# ---------------------------------------------------------------------------------------------
# Running the tools


@dataclass
class Kind:
    """The tools found for this run, and the cluster's own kubeconfig."""

    tools: dict[str, Path]
    cluster: str = field(default_factory=cluster_name)

    @property
    def workdir(self) -> Path:
        """.tools/kind: the kubeconfig, the values `make up` writes, the port-forwards' logs."""
        return TOOLS_DIR / "kind"

    @property
    def kubeconfig(self) -> Path:
        return self.workdir / f"{self.cluster}.kubeconfig"

    def env(self) -> dict[str, str]:
        return {**os.environ, "KUBECONFIG": str(self.kubeconfig)}

    def argv(self, command: Sequence[str]) -> list[str]:
        """`helm`/`kubectl`/`kind` replaced by the tool found (`helm` by $HELM's)."""
        name = helm_name() if command[0] == "helm" else command[0]
        tool = self.tools.get(name)
        return [str(tool) if tool else command[0], *command[1:]]

    def run(self, *command: str, timeout: float | None = None, cwd: Path = ROOT) -> None:
        subprocess.run(self.argv(command), cwd=cwd, env=self.env(), check=True, timeout=timeout)

    def output(self, *command: str) -> str:
        return subprocess.run(
            self.argv(command), cwd=ROOT, env=self.env(), check=True, capture_output=True, text=True
        ).stdout

    def shell_line(self, line: str, cwd: Path = ROOT) -> None:
        """One documented command line, its $VARIABLES taken from the environment."""
        words = [os.path.expandvars(word) for word in shlex.split(line)]
        self.run(*words, cwd=cwd)

    # The cluster -------------------------------------------------------------------------------

    def exists(self) -> bool:
        answer = subprocess.run(
            self.argv(["kind", "get", "clusters"]), capture_output=True, text=True, check=False
        )
        return self.cluster in answer.stdout.split()

    def use(self) -> None:
        if not self.exists():
            raise Stop(f"no kind cluster named {self.cluster}: run `make up` first")
        self.kubeconfig.parent.mkdir(parents=True, exist_ok=True)
        self.kubeconfig.write_text(self.output("kind", "get", "kubeconfig", "--name", self.cluster))

    def ensure_cluster(self) -> None:
        if self.exists():
            say(f"kind cluster {self.cluster} exists: upgrading in place")
        else:
            version = prerequisites.parse_version(self.output("kind", "version")) or (0,)
            try:
                image = kind_release.node_image(version)
            except kind_release.UnknownKindRelease as error:
                raise Stop(str(error), code=2) from error
            say(f"kind create cluster ({CLUSTER_CONFIG}, {image})")
            # The user's own kubeconfig gets the context kind-<cluster> (the README's kubectl
            # lines use it); every command here uses the cluster's own file (use()).
            create = ["kind", "create", "cluster", "--config", CLUSTER_CONFIG, "--image", image]
            subprocess.run([*self.argv(create), "--wait", "180s"], cwd=ROOT, check=True)
        self.use()


def kubectl_hint(kind: Kind) -> str:
    """How the user runs kubectl: by name when their PATH has it, else the path we found."""
    found = kind.tools.get("kubectl")
    if found is None or str(found.parent) != str(TOOLS_BIN):
        return "kubectl"
    return shlex.quote(os.path.relpath(found, Path.cwd()))


def down() -> None:
    require_docker("down")
    found = prerequisites.find(prerequisites.KIND, TOOLS_BIN)
    if found.path is None:
        print(
            "make down: kind is not on PATH nor in .tools/bin, so make up never ran here: "
            "nothing to delete"
        )
        return
    kind = Kind({"kind": found.path})
    if kind.exists():
        kind.run("kind", "delete", "cluster", "--name", kind.cluster)
    else:
        print(f"no kind cluster named {kind.cluster}: nothing to delete")
