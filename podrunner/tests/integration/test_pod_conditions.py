"""What a pod gives a process, checked from inside one (the API's pod, its command replaced by a
probe of its conditions that then execs the image's own command), and each way a run fails."""

from __future__ import annotations

import copy
import http.server
import json
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fdc_podrunner import PodFailed, PodRunner
from testkit.helm import Rendered
from testkit.kube import wait_for
from testkit.sloalert_cluster import operator_cluster

API = "fdc-fastdining-api"
RELAY = "fdc-discord-relay"
# Run inside the pod: report user, environment, Service names; then become the image's server.
REPORT = """
import json, os, sys, time, urllib.request
def get(url):
    for _ in range(300):
        try:
            return urllib.request.urlopen(url, timeout=2).read().decode()
        except OSError as exc:
            last = exc
            time.sleep(0.1)
    return repr(last)
print("REPORT " + json.dumps({
    "uid": os.getuid(), "gid": os.getgid(), "groups": os.getgroups(), "cwd": os.getcwd(),
    "env": dict(os.environ), "pid": os.getpid(),
    "relay": get("http://fdc-discord-relay:8800/healthz"),
    "host": get("http://prometheus-operated.monitoring.svc:9090/"),
}), flush=True)
os.execvp("python", ["python", "-m", "fastdining_api"])
"""


def _with_api(umbrella: Rendered, change: Any) -> list[dict[str, Any]]:
    documents = copy.deepcopy(umbrella.documents)
    for doc in documents:
        if doc.get("kind") == "Deployment" and doc["metadata"]["name"] == API:
            change(doc["spec"]["template"]["spec"]["containers"][0])
    return documents


def _container(umbrella: Rendered, deployment: str) -> dict[str, Any]:
    [found] = [d for d in umbrella.of_kind("Deployment") if d["metadata"]["name"] == deployment]
    return found["spec"]["template"]["spec"]["containers"][0]


@pytest.fixture
def host_server() -> Iterator[int]:
    """A process of the host's (as Prometheus would be), on loopback, answering "host"."""

    class Answer(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"host")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.mark.integration
@pytest.mark.timeout(300)
def test_inside_a_pod_user_env_and_service_names_are_the_pods(
    pod_tools: None, umbrella: Rendered, host_server: int, tmp_path: Path
) -> None:
    def report(container: dict[str, Any]) -> None:
        container["command"] = ["python", "-c", REPORT]

    documents = _with_api(umbrella, report)
    with PodRunner(
        documents,
        workdir=tmp_path,
        pods=[API, RELAY],
        host_services={"prometheus-operated": {9090: ("127.0.0.1", host_server)}},
    ) as runner:
        line = wait_for(
            lambda: next(
                (x for x in runner.logs(API, "api").splitlines() if x.startswith("REPORT ")), None
            ),
            what="the pod's report",
        )
        pod_name = runner.pod_name(API)
        host, port = runner.address(RELAY, "http")
        with urllib.request.urlopen(f"http://{host}:{port}/healthz", timeout=10) as answer:
            relay_answer = answer.read().decode()
    seen = json.loads(line.removeprefix("REPORT "))
    rendered = _container(umbrella, API)
    context = rendered["securityContext"]
    assert (seen["uid"], seen["gid"]) == (context["runAsUser"], context["runAsGroup"])
    assert seen["pid"] == 1, "the container's process is PID 1 of its own namespace"
    assert seen["cwd"] == "/app"  # the image's WORKDIR
    env = seen["env"]
    # Only the image's ENV, the rendered env, HOSTNAME and HOME: nothing of this machine's.
    for item in rendered["env"]:
        if "value" in item:
            assert env[item["name"]] == item["value"]
    assert env["HOME"] == "/" and env["HOSTNAME"] == pod_name
    assert env["PATH"].startswith("/app/.venv/bin:")
    for leak in ("USER", "LOGNAME", "VIRTUAL_ENV", "UV", "PYTHONPATH", "SSL_CERT_FILE", "SHELL"):
        assert leak not in env, f"{leak} leaked into the pod"
    # The Service name led to the relay's pod, and the mapped name to the host's process.
    assert seen["relay"] == relay_answer
    assert seen["host"] == "host"


@pytest.mark.integration
@pytest.mark.timeout(300)
def test_a_write_outside_a_writable_mount_fails_the_run_naming_the_container(
    pod_tools: None, umbrella: Rendered, tmp_path: Path
) -> None:
    def write(container: dict[str, Any]) -> None:
        container["command"] = ["python", "-c", "open('/app/state', 'w')"]

    with pytest.raises(PodFailed) as failed:
        PodRunner(_with_api(umbrella, write), workdir=tmp_path, pods=[API]).start()
    assert failed.value.container == "api"
    assert "Read-only file system" in failed.value.log_tail
    assert "container api" in str(failed.value)


@pytest.mark.integration
@pytest.mark.timeout(300)
def test_a_readiness_probe_that_never_passes_fails_the_run(
    pod_tools: None, umbrella: Rendered, tmp_path: Path
) -> None:
    def unready(container: dict[str, Any]) -> None:
        container["readinessProbe"]["httpGet"]["path"] = "/no-such-path"

    runner = PodRunner(_with_api(umbrella, unready), workdir=tmp_path, pods=[API], ready_timeout=5)
    with pytest.raises(PodFailed, match="readiness probe never passed") as failed:
        runner.start()
    assert failed.value.container == "api"
    assert "/no-such-path" in failed.value.reason


# Serves /healthz; /live fails in its first run only. The marker is in the pod's emptyDir, which
# outlives the container's restart. A SIGTERM handler first: as PID 1 it would ignore SIGTERM.
FAILS_ONCE = """
import http.server, os, signal, sys
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
first = not os.path.exists("/tmp/ran")
open("/tmp/ran", "w").close()
print("first run" if first else "second run", flush=True)
class Answer(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(500 if first and self.path == "/live" else 200)
        self.end_headers()
http.server.HTTPServer(("0.0.0.0", int(os.environ["FASTDINING_PORT"])), Answer).serve_forever()
"""


@pytest.mark.integration
@pytest.mark.timeout(300)
def test_a_failing_liveness_probe_restarts_the_container_in_the_same_pod(
    pod_tools: None, umbrella: Rendered, tmp_path: Path
) -> None:
    def fails_once(container: dict[str, Any]) -> None:
        container["command"] = ["python", "-c", FAILS_ONCE]
        container["livenessProbe"] = {
            "httpGet": {"path": "/live", "port": "http"},
            "periodSeconds": 1,
            "failureThreshold": 2,
        }

    with PodRunner(_with_api(umbrella, fails_once), workdir=tmp_path, pods=[API]) as runner:
        wait_for(lambda: "second run" in runner.logs(API, "api"), what="a second run")
        wait_for(lambda: runner.ready(API), what="Ready again")
        runner.check()  # a restart is not a failure of the run
        log = runner.logs(API, "api")
    assert runner.restarts(API, "api") == 1
    assert "liveness probe failed (GET /live on port 8000: HTTP 500): restart 1" in log
    assert log.index("first run") < log.index("restart 1") < log.index("second run")
    assert runner.killed() == []


@pytest.mark.integration
@pytest.mark.apiserver
@pytest.mark.timeout(300)
def test_stop_ends_each_of_our_containers_with_sigterm_alone(
    pod_tools: None, umbrella: Rendered, tmp_path: Path
) -> None:
    with operator_cluster(tmp_path / "apiserver") as cluster:
        runner = PodRunner(
            umbrella.documents, workdir=tmp_path / "pods", kubeconfig=cluster.kubeconfig
        )
        runner.start()
        processes = [
            container.process.process
            for state in runner._pods.values()
            for container in state.containers.values()
        ]
        runner.stop()
    assert len(processes) == 4
    assert all(process is not None and process.poll() is not None for process in processes)
    assert runner.killed() == [], "SIGTERM did not stop these within their grace period"


# Started as a separate program, so that the test can SIGKILL the runner itself.
RUNNER = """
import json, sys, time
from pathlib import Path
from fdc_podrunner import PodRunner
documents = json.loads(Path(sys.argv[1]).read_text())
runner = PodRunner(documents, workdir=Path(sys.argv[2]), pods=[sys.argv[3]])
runner.start()
pids = [c.process.pid for s in runner._pods.values() for c in s.containers.values()]
pids += [s.sandbox.pid for s in runner._pods.values()]
print("PIDS", *pids, flush=True)
time.sleep(600)
"""


@pytest.mark.integration
@pytest.mark.timeout(300)
def test_a_killed_runner_leaves_no_container_behind(
    pod_tools: None, umbrella: Rendered, tmp_path: Path
) -> None:
    documents = tmp_path / "documents.json"
    documents.write_text(json.dumps(umbrella.documents), encoding="utf-8")
    runner = subprocess.Popen(
        [sys.executable, "-c", RUNNER, str(documents), str(tmp_path / "pods"), API],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert runner.stdout is not None
        line = runner.stdout.readline()
        pids = [int(word) for word in line.split()[1:]]
        assert line.startswith("PIDS") and len(pids) == 2
        assert all(Path(f"/proc/{pid}").exists() for pid in pids)
    finally:
        runner.kill()  # SIGKILL: no handler, no stop()
        runner.wait(timeout=30)
    wait_for(
        lambda: not any(Path(f"/proc/{pid}").exists() for pid in pids),
        what="the container and the pod's sandbox to be gone",
    )
