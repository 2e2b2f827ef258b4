"""`make local` (`python -m testkit.local_stack`): the pipeline test's processes, left running for
a person on 127.0.0.1, until Ctrl-C (or SIGTERM) stops every one of them.

The same `testkit.stack.run_stack` as the pipeline test, on the seed's ports: FastAPI 8000,
Django 8900, relay 8800, Prometheus 9090, Alertmanager 9093, node-exporter 9100 (and the
SLOAlert operator's metrics on 8080, health 8081), each overridable. The relay posts to Discord
when DISCORD_WEBHOOK_URL is set, and writes each message to its log otherwise.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

from testkit.processes import LOOPBACK
from testkit.stack import LOCAL_PORTS, Ports, Stack, run_stack

WEBHOOK_ENV = "DISCORD_WEBHOOK_URL"
DASHBOARDS = "charts/fdc-stack/dashboards/*.json"


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="make local", description="Run the whole alert path on 127.0.0.1 until Ctrl-C."
    )
    for name in Ports.__dataclass_fields__:
        flag = f"--{name.replace('_', '-')}-port"
        default = getattr(LOCAL_PORTS, name)
        parser.add_argument(flag, type=int, default=default, dest=name, help=f"(default {default})")
    parser.add_argument(
        "--scrape-interval", default="5s", help="Prometheus scrape and rule evaluation interval"
    )
    parser.add_argument(
        "--workdir", type=Path, help="keep config, data and logs here (default: a temporary folder)"
    )
    return parser


def describe(stack: Stack, interval: str, sink: str) -> str:
    lines = ["", "The alert path is running on 127.0.0.1:", ""]
    width = max(len(name) for name in stack.urls())
    lines += [f"  {name:<{width}}  {url}" for name, url in stack.urls().items()]
    lines += [
        "",
        f"  Prometheus scrapes and evaluates every {interval}; rules: {stack.rule_file}",
        f"  Notifications go to {sink}.",
        "  Grafana is not part of this: no Grafana build installs on this machine. Its dashboards",
        f"  are {DASHBOARDS} (import them into any Grafana pointed at the Prometheus above).",
        "",
        "  Logs:",
        *(f"    {name:<14} {path}" for name, path in stack.logs.items()),
        "",
        "  Traffic and errors:  make load   (then watch Prometheus alerts and Alertmanager)",
        "  Stop everything:     Ctrl-C",
        "",
    ]
    return "\n".join(lines)


def busy_ports(ports: Ports) -> list[str]:
    """The ports something already listens on, each with the option that moves it."""
    busy = []
    for name, port in vars(ports).items():
        taken = [port] + ([port + 1] if name == "operator" else [])  # and its health port
        for number in taken:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                if sock.connect_ex((LOOPBACK, number)) == 0:
                    flag, variable = name.replace("_", "-"), name.upper()
                    busy.append(f"{LOOPBACK}:{number} (--{flag}-port, make local {variable}_PORT=)")
    return busy


def run(args: argparse.Namespace) -> int:
    ports = Ports(**{name: getattr(args, name) for name in Ports.__dataclass_fields__})
    if busy := busy_ports(ports):
        print(f"already in use, pick other ports: {', '.join(busy)}", file=sys.stderr)
        return 2
    webhook = os.environ.get(WEBHOOK_ENV, "").strip()
    sink = "Discord (DISCORD_WEBHOOK_URL)" if webhook else "the relay's log (log sink mode)"
    # Ctrl-C (or SIGTERM) only asks to stop: the processes are then stopped in order, and a
    # second Ctrl-C (or the same signal forwarded by uv or timeout) cannot cut that short.
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    with tempfile.TemporaryDirectory(prefix="fdc-local-") as scratch:
        workdir = args.workdir or Path(scratch)
        print(f"starting the stack in {workdir} ...", flush=True)
        try:
            with run_stack(
                workdir,
                ports=ports,
                discord=webhook or "log",
                scrape_interval=args.scrape_interval,
                evaluation_interval=args.scrape_interval,
            ) as stack:
                if not stopping.is_set():
                    stack.prometheus.wait_for_targets_up(stack.jobs.values())
                    print(describe(stack, args.scrape_interval, sink), flush=True)
                    stopping.wait()
                print("\nstopping every process ...", flush=True)
        except (RuntimeError, TimeoutError) as exc:
            # A process that would not start: its log says why; the others are stopped already.
            print(f"the stack did not start: {exc}", file=sys.stderr)
            return 1
    print("stopped: nothing of the stack is left running.", flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run(parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
