"""`make grafana`, `make prometheus`, `make alertmanager` (kubectl port-forward in this process's
place) and `make load-kind` (make load's loops through background port-forwards)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from fdc_make.kind import (
    FORWARDS,
    NAMESPACE,
    RELEASE,
    ROOT,
    Kind,
    Stop,
    kubectl_hint,
    needs,
    require,
)


def forward(name: str) -> None:
    if name not in FORWARDS:
        raise Stop("usage: python3 -m fdc_make forward grafana|prometheus|alertmanager", 2)
    service, default_port, target = FORWARDS[name]
    port = int(os.environ.get("PORT", default_port))
    kind = Kind(require(name, *needs(name)))
    kind.use()
    print(f"{name}: http://127.0.0.1:{port}   (Ctrl-C stops the port-forward)")
    if name == "grafana":
        print("user admin; the password (generated at install, kept in a Secret):")
        print(
            f"  {kubectl_hint(kind)} --context kind-{kind.cluster} -n {NAMESPACE} get secret "
            f"{RELEASE}-grafana -o jsonpath='{{.data.admin-password}}' | base64 -d; echo"
        )
    sys.stdout.flush()
    argv = kind.argv(
        [
            "kubectl",
            "-n",
            NAMESPACE,
            "port-forward",
            "--address",
            "127.0.0.1",
            service,
            f"{port}:{target}",
        ]
    )
    os.execve(argv[0], argv, kind.env())  # noqa: S606 (kubectl takes this process's place)


@contextmanager
def background_forward(kind: Kind, service: str, port: int) -> Iterator[str]:
    """`kubectl port-forward` on a free loopback port; yields its URL, stops it on exit."""
    log = kind.workdir / f"port-forward-{service}.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            kind.argv(
                [
                    "kubectl",
                    "-n",
                    NAMESPACE,
                    "port-forward",
                    "--address",
                    "127.0.0.1",
                    f"svc/{service}",
                    f":{port}",
                ]
            ),
            env=kind.env(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        for _ in range(100):
            match = re.search(r"^Forwarding from 127\.0\.0\.1:(\d+) ", log.read_text(), re.M)
            if match:
                yield f"http://127.0.0.1:{match.group(1)}"
                return
            if process.poll() is not None:
                break
            time.sleep(0.1)
        raise Stop(f"kubectl port-forward svc/{service} did not start: {log.read_text()}")
    finally:
        process.terminate()
        process.wait(timeout=10)


def load(args: Sequence[str]) -> None:
    """`make load` against the cluster's apps, through port-forwards."""
    kind = Kind(require("load-kind", *needs("load-kind")))
    kind.use()
    targets = {
        "fastapi": (f"{RELEASE}-fastdining-api", 8000),
        "django": (f"{RELEASE}-airestaurant", 8900),
        "prometheus": ("prometheus-operated", 9090),
        "alertmanager": ("alertmanager-operated", 9093),
    }
    urls: list[str] = []

    def nest(items: list[tuple[str, tuple[str, int]]]) -> None:
        if not items:
            command = ["uv", "run", "--frozen", "--no-sync", "python", "-m", "fdc_local.load"]
            subprocess.run([*command, *urls, *args], cwd=ROOT, check=True)
            return
        (part, (service, port)), rest = items[0], items[1:]
        with background_forward(kind, service, port) as url:
            urls.extend([f"--{part}-url", url])
            nest(rest)

    nest(list(targets.items()))
