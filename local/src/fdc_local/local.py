"""`make local` (`fdc-local`, `python -m fdc_local.local`): the whole alert path as processes on
127.0.0.1 (`fdc_local.stack`, the pipeline test's stack), left running until Ctrl-C (or SIGTERM)
stops every one of them.

On the seed's ports, each movable: FastAPI 8000, Django 8900, relay 8800, Prometheus 9090,
Alertmanager 9093, node-exporter 9100, the SLOAlert operator's metrics 8080 and health 8081.
The relay posts to Discord when DISCORD_WEBHOOK_URL is set, and writes each message to its log
otherwise. Where everything listens goes into the work folder's state file, for `make load`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from fdc_local.stack import LOCAL_PORTS, Ports, Stack, run_stack
from fdc_local.state import LocalState, own_start_time, read_state, remove_state, write_state
from fdc_local.supervise import LOOPBACK, held_ports, listening, stop_requested
from fdc_local.workdir import DEFAULT_WORKDIR, fresh_run_dir

WEBHOOK_ENV = "DISCORD_WEBHOOK_URL"
UMBRELLA = "charts/fdc-stack"
CHECK_SECONDS = 1.0


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
        "--workdir",
        type=Path,
        default=DEFAULT_WORKDIR,
        help=f"config, data, logs and the state file (default {DEFAULT_WORKDIR}/)",
    )
    return parser


def variable(name: str) -> str:
    """The Makefile variable that sets a port: `operator_health` -> OPERATOR_HEALTH_PORT."""
    return f"{name.upper()}_PORT"


def load_command(stack: Stack, workdir: Path) -> str:
    """The `make load` that drives this stack: it reads the state file of the work folder (named
    when not the default); with moved app ports, also the form that works from anywhere."""
    command = "make load"
    if workdir.resolve() != DEFAULT_WORKDIR.resolve():
        command += f" WORKDIR={workdir}"
    seed = (f"http://{LOOPBACK}:{LOCAL_PORTS.fastapi}", f"http://{LOOPBACK}:{LOCAL_PORTS.django}")
    if (stack.fastapi.base_url, stack.django.base_url) != seed:
        command += (
            f"\n                       (or: make load FASTAPI_URL={stack.fastapi.base_url}"
            f" DJANGO_URL={stack.django.base_url}"
            f" PROMETHEUS_URL={stack.prometheus.base_url}"
            f" ALERTMANAGER_URL={stack.alertmanager.base_url})"
        )
    return command


def grafana_text(stack: Stack) -> list[str]:
    """How to point one's own Grafana at this stack (none runs here)."""
    return [
        "  Grafana (your own; none runs here):",
        f"    datasource   Prometheus at {stack.prometheus.base_url}, uid `prometheus` (the",
        "                 alert rules name it so; the dashboards let you pick it)",
        f"    dashboards   {UMBRELLA}/dashboards/*.json (Dashboards > New > Import)",
        f"    alerting     {UMBRELLA}/files/grafana-alerting/*.yaml into Grafana's",
        "                 provisioning/alerting/; its contact point posts to",
        f"                 {stack.relay.base_url}/grafana (not fdc-discord-relay:8800) with",
        f"                 FDC_RELAY_TOKEN set to the token in {stack.relay_token_file}",
    ]


def describe(stack: Stack, args: argparse.Namespace, sink: str) -> str:
    lines = ["", "The alert path is running on 127.0.0.1:", ""]
    width = max(len(name) for name in stack.urls())
    lines += [f"  {name:<{width}}  {url}" for name, url in stack.urls().items()]
    lines += [
        "",
        f"  Prometheus scrapes and evaluates every {args.scrape_interval}",
        f"  (in a cluster: 15-30 s); rules: {stack.rule_file}",
        f"  Notifications go to {sink}.",
        "",
        *grafana_text(stack),
        "",
        "  Logs:",
        *(f"    {name:<14} {path}" for name, path in stack.logs.items()),
        "",
        f"  Traffic and errors:  {load_command(stack, args.workdir)}",
        "                       (in another terminal; it says what to watch)",
        "  Stop everything:     Ctrl-C",
        "",
    ]
    return "\n".join(lines)


def ports_of(args: argparse.Namespace) -> Ports:
    return Ports(**{name: getattr(args, name) for name in Ports.__dataclass_fields__})


def busy_ports(ports: Ports) -> list[str]:
    """The ports something already listens on, each with the option that moves it."""
    return [
        f"{LOOPBACK}:{port} (make local {variable(name)}=)"
        for name, port in vars(ports).items()
        if port and listening(port)
    ]


def run(args: argparse.Namespace) -> int:
    ports = ports_of(args)
    # Absolute: every part is handed paths in it, and some resolve them from elsewhere.
    workdir: Path = args.workdir.resolve()
    if (running := read_state(workdir)) is not None:
        print(
            f"a local stack already runs from {workdir} (pid {running.pid}): stop it with "
            "Ctrl-C in its terminal, or start another with WORKDIR= and other ports",
            file=sys.stderr,
        )
        return 2
    if busy := busy_ports(ports):
        print(f"already in use, pick other ports: {', '.join(busy)}", file=sys.stderr)
        return 2
    webhook = os.environ.get(WEBHOOK_ENV, "").strip()
    sink = "Discord (DISCORD_WEBHOOK_URL)" if webhook else "the relay's log (log sink mode)"
    stopping = stop_requested()
    run_dir = fresh_run_dir(workdir)
    print(f"starting the stack in {run_dir} ...", flush=True)
    code, logs, listened = 0, {}, [port for port in vars(ports).values() if port]
    try:
        with run_stack(
            run_dir,
            ports=ports,
            discord=webhook or "log",
            scrape_interval=args.scrape_interval,
            evaluation_interval=args.scrape_interval,
        ) as stack:
            logs, listened = stack.logs, [*listened, *stack.ports()]
            if not stopping.is_set():
                stack.prometheus.wait_for_targets_up(stack.jobs.values())
                write_state(workdir, state_of(stack))
                print(describe(stack, args, sink), flush=True)
            # A pod that fails while running (a container exits, a probe keeps failing) ends
            # the run too, named with its log's last lines, rather than go unnoticed.
            while not stopping.wait(CHECK_SECONDS):
                stack.pods.check()
            remove_state(workdir)
            print("\nstopping every process ...", flush=True)
    except (RuntimeError, TimeoutError) as exc:
        # A part that would not start or failed: the message names it and its log's last
        # lines; the other parts are stopped by now.
        print(f"the stack failed: {exc}", file=sys.stderr)
        code = 1
    finally:
        remove_state(workdir)
    if held := held_ports(listened):
        print(f"NOT stopped: still listening: {', '.join(held)}", file=sys.stderr)
        code = 1
    else:
        print("stopped: every process has ended and every port is free.", flush=True)
    print(f"Kept in {run_dir} (moved to {workdir / 'previous'} by the next make local):")
    if "relay" in logs:
        print(f"  the relay's messages (its log): {logs['relay']}")
    print(f"  every log: {run_dir}", flush=True)
    return code


def state_of(stack: Stack) -> LocalState:
    return LocalState(
        pid=os.getpid(),
        started=own_start_time(),
        fastapi=stack.fastapi.base_url,
        django=stack.django.base_url,
        prometheus=stack.prometheus.base_url,
        alertmanager=stack.alertmanager.base_url,
        relay=stack.relay.base_url,
    )


def main(argv: Sequence[str] | None = None) -> int:
    return run(parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
