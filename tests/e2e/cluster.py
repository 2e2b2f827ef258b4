"""The kind cluster of `make up`, as the end-to-end suite sees it: kubectl, port-forwards, traffic.

Names come from the files that define them: the namespace from manifests/namespaces.yaml,
the release and the install from the kind path (fdc_make.kind, which `make e2e` ran before this
suite).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from fdc_make import kind
from testkit.kube import kubectl as run_kubectl
from testkit.processes import LOOPBACK, free_port, run_server
from testkit.tools import REPO_ROOT, require_tool

NAMESPACE_FILE = REPO_ROOT / "manifests" / "namespaces.yaml"
NAMESPACE: str = next(yaml.safe_load_all(NAMESPACE_FILE.read_text(encoding="utf-8")))["metadata"][
    "name"
]
RELEASE = kind.RELEASE
STANDIN_MANIFEST = Path(__file__).with_name("discord-standin.yaml")


@dataclass(frozen=True)
class Cluster:
    kubeconfig: Path

    def kubectl(self, *args: str, stdin: str | None = None, timeout: float = 120.0) -> str:
        return run_kubectl(self.kubeconfig, *args, stdin=stdin, timeout=timeout)

    def get(self, *args: str) -> Any:
        """`kubectl get ARGS -o json` in the install's namespace, parsed."""
        return json.loads(self.kubectl("-n", NAMESPACE, "get", *args, "-o", "json"))

    def items(self, kind: str, *selectors: str) -> list[dict[str, Any]]:
        return self.get(kind, *selectors)["items"]

    def env(self) -> dict[str, str]:
        return {**os.environ, "KUBECONFIG": str(self.kubeconfig)}

    @contextmanager
    def port_forward(
        self, service: str, port: int, ready_path: str, log_dir: Path
    ) -> Iterator[str]:
        """`kubectl port-forward` to `service:port` on a free loopback port; yields its base URL."""
        local = free_port()
        base_url = f"http://{LOOPBACK}:{local}"
        command = [
            str(require_tool("kubectl")),
            "-n",
            NAMESPACE,
            "port-forward",
            "--address",
            LOOPBACK,
            f"svc/{service}",
            f"{local}:{port}",
        ]
        with run_server(
            command,
            ready_url=base_url + ready_path,
            base_url=base_url,
            log_path=log_dir / f"port-forward-{service}.log",
            env={"KUBECONFIG": str(self.kubeconfig)},
            timeout=60.0,
        ):
            yield base_url

    def deployment(self, component: str) -> str:
        """`deployment/<name>` of one of the four component charts in this release."""
        names = [
            item["metadata"]["name"]
            for item in self.items(
                "deployment",
                "-l",
                f"app.kubernetes.io/instance={RELEASE},app.kubernetes.io/name={component}",
            )
        ]
        assert len(names) == 1, f"expected one {component} Deployment, found {names}"
        return f"deployment/{names[0]}"

    def requests(self, component: str, url: str, count: int) -> int:
        """GET `url` `count` times from inside `component`'s pod (its own Python, no port-forward
        in the way); returns how many answered with an HTTP error."""
        script = (
            "import sys, urllib.error, urllib.request\n"
            "bad = 0\n"
            "for _ in range(int(sys.argv[2])):\n"
            "    try:\n"
            "        urllib.request.urlopen(sys.argv[1], timeout=5).read()\n"
            "    except urllib.error.HTTPError:\n"
            "        bad += 1\n"
            "print(bad)\n"
        )
        output = self.kubectl(
            "-n",
            NAMESPACE,
            "exec",
            self.deployment(component),
            "--",
            "python",
            "-c",
            script,
            url,
            str(count),
            timeout=600.0,
        )
        return int(output.strip().splitlines()[-1])


def condition(item: dict[str, Any], name: str) -> str | None:
    """The status ("True", "False", ...) of condition `name` of an object, None if it has none."""
    for entry in item.get("status", {}).get("conditions", []):
        if entry.get("type") == name:
            return entry.get("status")
    return None
