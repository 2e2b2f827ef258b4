"""`make load` (`fdc-load`, `python -m fdc_local.load`): the seed's traffic and error loops,
bounded, into both apps of the running `make local` (read from its work folder's state file),
or of any stack whose URLs are given (`make load-kind`: port-forwards of a kind cluster); then
what to watch while the alerts react.

    seq 400 | xargs -P16 curl .../          ->  --requests 400 --parallel 16 (both apps)
    for i in {1..30}; do curl .../boom      ->  --errors 30 (each app, 5 a second)

With no stack running and no URLs given it refuses, rather than drive whatever listens on the
seed's ports.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fdc_local.state import StateError, read_state
from fdc_local.traffic import (
    DJANGO_CLEAN_PATHS,
    DJANGO_ERROR_PATH,
    FASTAPI_CLEAN_PATHS,
    FASTAPI_ERROR_PATH,
    Loop,
    run_together,
)
from fdc_local.workdir import DEFAULT_WORKDIR

ERROR_PAUSE_SECONDS = 0.2
NO_STACK = "no local stack found: run make local, or give FASTAPI_URL and DJANGO_URL"


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="make load", description="Bounded traffic, then errors, into both apps."
    )
    parser.add_argument("--fastapi-url", help="default: the running make local's")
    parser.add_argument("--django-url", help="default: the running make local's")
    parser.add_argument("--prometheus-url", help="default: the running make local's")
    parser.add_argument("--alertmanager-url", help="default: the running make local's")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=DEFAULT_WORKDIR,
        help=f"the make local whose state file to read (default {DEFAULT_WORKDIR}/)",
    )
    parser.add_argument("--requests", type=_count, default=400, help="clean requests per app")
    parser.add_argument("--parallel", type=_positive, default=16, help="concurrent clients")
    parser.add_argument("--errors", type=_count, default=30, help="/boom requests per app")
    parser.add_argument(
        "--max-seconds", type=float, default=300.0, help="stop each loop after this long"
    )
    return parser


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


@dataclass(frozen=True)
class Targets:
    fastapi: str
    django: str
    prometheus: str | None
    alertmanager: str | None


def targets(args: argparse.Namespace) -> Targets:
    """The URLs given, the rest from the running `make local`; LookupError when the apps'
    URLs are neither given nor running."""
    state = read_state(args.workdir)
    fastapi = args.fastapi_url or (state.fastapi if state else None)
    django = args.django_url or (state.django if state else None)
    if fastapi is None or django is None:
        raise LookupError(NO_STACK)
    return Targets(
        fastapi=fastapi,
        django=django,
        prometheus=args.prometheus_url or (state.prometheus if state else None),
        alertmanager=args.alertmanager_url or (state.alertmanager if state else None),
    )


def what_to_watch(where: Targets) -> str:
    prometheus = where.prometheus or "Prometheus (give PROMETHEUS_URL)"
    alertmanager = where.alertmanager or "Alertmanager (give ALERTMANAGER_URL)"
    return "\n".join(
        [
            "",
            "What to watch:",
            f"  {prometheus}/alerts",
            "      FastapiAvailability and DjangoAvailability fire twice each, once a few scrapes",
            "      have seen the errors: the page (burning 14.4x the error budget over 1h and 5m)",
            "      and the ticket (3x over 1d and 2h), same alert name, `sloalert_tier` apart.",
            f"  {alertmanager}/#/alerts",
            "      the pages; each ticket is suppressed (inhibited) while the page of the same",
            "      SLO fires: one message per outage, not two.",
            "  Discord (DISCORD_WEBHOOK_URL) or the relay's log (make local names it):",
            "      [FIRING] about 10 s after the page fires (the page route's group_wait);",
            "      [RESOLVED] within a minute of recovery (its group_interval).",
            "  Recovery: make load LOAD_ERRORS=0 LOAD_REQUESTS=6000, until the errors are under",
            "      0.6% of the last 30 minutes' requests (the page's 6x over 6h and 30m).",
            "  Then a ticket can FIRE after the page's RESOLVED: the page looks at the last hour",
            "      and 5 minutes, the ticket at the last day and 2 hours, so the ticket keeps",
            "      burning after the page is quiet, and no page inhibits it any more. It is the",
            "      slower budget burn being reported, not a new outage; it resolves once the 2h",
            "      window has diluted the errors too.",
            f"  {prometheus}/graph?g0.expr=slo%3Asli_error%3Aratio_rate5m   the recorded "
            "error ratios",
            "",
        ]
    )


def run(args: argparse.Namespace) -> int:
    try:
        where = targets(args)
    except (LookupError, StateError) as exc:
        print(exc.args[0], file=sys.stderr)
        return 2
    bound = {"max_seconds": args.max_seconds}
    clean = [
        Loop(where.fastapi, FASTAPI_CLEAN_PATHS, args.requests, args.parallel, **bound),
        Loop(where.django, DJANGO_CLEAN_PATHS, args.requests, args.parallel, **bound),
    ]
    pause = {"pause": ERROR_PAUSE_SECONDS, **bound}
    errors = [
        Loop(where.fastapi, [FASTAPI_ERROR_PATH], args.errors, **pause),
        Loop(where.django, [DJANGO_ERROR_PATH], args.errors, **pause),
    ]
    failed = False
    for phase, loops in (("traffic", clean), ("errors", errors)):
        for loop, result in zip(loops, run_together(loops), strict=True):
            print(f"{phase:>8} {loop.base_url}: {result.describe()}", flush=True)
            failed = failed or bool(result.failures)
    print(what_to_watch(where))
    if failed:
        print("some requests got no answer: is the stack running at those URLs?", file=sys.stderr)
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    # `make load | head` ends quietly, as a shell tool does, not with a BrokenPipeError.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    return run(parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
