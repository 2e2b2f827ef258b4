"""`make up` and `make e2e`: the cluster, the images loaded, the install (the commands
kind.py holds and fdc-stack's README quotes), every rollout waited for, then the end-to-end suite.
Each phase prints how long it took against its budget (budgets.py)."""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fdc_make import budgets, images, versions
from fdc_make.kind import (
    CREATE_NAMESPACES,
    INSTALL_DEPENDENCIES,
    INSTALL_LOG_SINK,
    INSTALL_WITH_WEBHOOK,
    NAMESPACE,
    NODE_EXPORTER_NAMESPACE,
    RELEASE,
    ROOT,
    STANDIN_DOCKERFILE,
    STANDIN_IMAGE,
    WEBHOOK_OBJECT,
    Kind,
    kubectl_hint,
    needs,
    require,
    say,
)


def install(kind: Kind) -> None:
    say(f"helm dependency build, namespaces, helm upgrade --install {RELEASE}")
    images_values = kind.workdir / "local-images.yaml"
    images_values.parent.mkdir(parents=True, exist_ok=True)
    images_values.write_text(images.local_images_values(versions.project_version(ROOT)))
    for line in INSTALL_DEPENDENCIES + CREATE_NAMESPACES:
        kind.shell_line(line)
    webhook = os.environ.get("DISCORD_WEBHOOK_URL")
    if webhook:
        print("the relay posts to the webhook in DISCORD_WEBHOOK_URL (Secret discord-webhook)")
        webhook_secret(kind, webhook)
        install_line = INSTALL_WITH_WEBHOOK[-1]
    else:
        print("DISCORD_WEBHOOK_URL is not set: the relay logs each message instead of posting it")
        install_line = INSTALL_LOG_SINK[0]
    kind.shell_line(f"{install_line} -f {shlex.quote(str(images_values))}")


def webhook_secret(kind: Kind, webhook: str) -> None:
    """The documented Secret command, from a file only the user can read, removed at once;
    replaced on every run (an upgrade may bring another webhook)."""
    folder = kind.workdir
    kind.run("kubectl", "-n", NAMESPACE, "delete", "secret", WEBHOOK_OBJECT, "--ignore-not-found")
    secret_file = folder / "discord-webhook-url"
    secret_file.touch(mode=0o600)
    try:
        secret_file.write_text(webhook)
        kind.shell_line(INSTALL_WITH_WEBHOOK[0], cwd=folder)
    finally:
        secret_file.unlink(missing_ok=True)


@contextmanager
def phase(name: str, budget: int) -> Iterator[None]:
    """Print how long the phase really took against its budget (budgets.py)."""
    started = time.monotonic()
    yield
    print(f"== {name}: {time.monotonic() - started:.0f} s of {budget}", flush=True)


def wait_rollouts(kind: Kind) -> None:
    say("waiting for every rollout")
    timeout = f"--timeout={budgets.ROLLOUT}s"
    # prometheus-operator creates these StatefulSets after helm is done: wait for the objects first.
    for kind_name in ("prometheus", "alertmanager"):
        kind.run(
            "kubectl",
            "-n",
            NAMESPACE,
            "wait",
            "--for=condition=Available",
            timeout,
            kind_name,
            "--all",
        )
    for namespace in (NAMESPACE, NODE_EXPORTER_NAMESPACE):
        workloads = kind.output(
            "kubectl", "-n", namespace, "get", "deployment,statefulset,daemonset", "-o", "name"
        ).split()
        for workload in workloads:
            kind.run("kubectl", "-n", namespace, "rollout", "status", workload, timeout)


def next_steps(kind: Kind) -> str:
    kubectl = f"{kubectl_hint(kind)} --context kind-{kind.cluster}"
    return (
        f"\nfdc-stack is running on the kind cluster {kind.cluster!r} "
        f"(kubectl context kind-{kind.cluster}), namespace {NAMESPACE}.\n"
        "Next:\n"
        "  make grafana        # Grafana on http://127.0.0.1:3000 (and the password's command)\n"
        "  make prometheus     # Prometheus on http://127.0.0.1:9090\n"
        "  make alertmanager   # Alertmanager on http://127.0.0.1:9093\n"
        f"  {kubectl} -n {NAMESPACE} get slo   # READY and SELECTED for each SLOAlert\n"
        f"  {kubectl} apply -n default -f manifests/slo/fastapi-latency.yaml   # one of yours\n"
        "  make e2e            # the end-to-end suite against this cluster\n"
        "  make down           # delete the cluster"
    )


def up() -> Kind:
    kind = Kind(require("up", *needs("up")))
    with phase("install", budgets.INSTALL):
        kind.ensure_cluster()
        built = images.images()
        say(f"kind load docker-image ({len(built)} images)")
        kind.run("kind", "load", "docker-image", "--name", kind.cluster, *built)
        status = subprocess.run(
            kind.argv(["helm", "status", RELEASE, "--namespace", NAMESPACE]),
            env=kind.env(),
            capture_output=True,
            check=False,
        )
        install(kind)
        # A first install runs the images just loaded; an upgrade may still run the previous build.
        if status.returncode == 0:
            images.restart_rebuilt(kind)
        wait_rollouts(kind)
    print(next_steps(kind))
    return kind


def install_only() -> None:
    kind = Kind(require("up", *needs("up")))
    kind.use()
    install(kind)
    wait_rollouts(kind)


def e2e_command(kubeconfig: Path) -> tuple[list[str], dict[str, str]]:
    """pytest over tests/e2e: each test's own timeout (budgets.py), fixtures bounded by theirs."""
    command = [
        "uv",
        "run",
        "--frozen",
        "--no-sync",
        "pytest",
        "tests/e2e",
        "-p",
        "no:cacheprovider",
        "-o",
        "timeout_func_only=true",
    ]
    env = {
        **os.environ,
        "FDC_E2E": "1",
        "FDC_E2E_KUBECONFIG": str(kubeconfig),
        "FDC_E2E_STANDIN_IMAGE": STANDIN_IMAGE,
    }
    return command, env


def e2e() -> None:
    kind = up()
    images.build(STANDIN_IMAGE, STANDIN_DOCKERFILE)
    kind.run("kind", "load", "docker-image", "--name", kind.cluster, STANDIN_IMAGE)
    say("pytest tests/e2e")
    command, env = e2e_command(kind.kubeconfig)
    subprocess.run(command, cwd=ROOT, env=env, check=True)
