"""`make load` (`python -m testkit.load_stack`): the seed's traffic and error loops, bounded,
against `make local` or port-forwards of a kind cluster (the URLs are options), and what to
watch while the alerts react.

    seq 400 | xargs -P16 curl .../          ->  --requests 400 --parallel 16 (both apps)
    for i in {1..30}; do curl .../boom      ->  --errors 30 (each app, 5 a second)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from testkit.stack import LOCAL_PORTS
from testkit.traffic import (
    DJANGO_CLEAN_PATHS,
    DJANGO_ERROR_PATH,
    FASTAPI_CLEAN_PATHS,
    FASTAPI_ERROR_PATH,
    Loop,
    run_together,
)

LOCAL = "http://127.0.0.1"
ERROR_PAUSE_SECONDS = 0.2


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="make load", description="Bounded traffic, then errors, into both apps."
    )
    parser.add_argument("--fastapi-url", default=f"{LOCAL}:{LOCAL_PORTS.fastapi}")
    parser.add_argument("--django-url", default=f"{LOCAL}:{LOCAL_PORTS.django}")
    parser.add_argument("--prometheus-url", default=f"{LOCAL}:{LOCAL_PORTS.prometheus}")
    parser.add_argument("--alertmanager-url", default=f"{LOCAL}:{LOCAL_PORTS.alertmanager}")
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


def what_to_watch(args: argparse.Namespace) -> str:
    prometheus, alertmanager = args.prometheus_url, args.alertmanager_url
    return "\n".join(
        [
            "",
            "What to watch:",
            f"  {prometheus}/alerts       FastapiAvailability and DjangoAvailability (page) fire "
            "once a few scrapes have seen the errors; the tickets fire too",
            f"  {alertmanager}/#/alerts   the pages; each ticket is suppressed (inhibited) "
            "while its page fires",
            "  Discord (DISCORD_WEBHOOK_URL) or the relay's log: [FIRING] about 10 s after the "
            "page fires (the page route's group_wait), [RESOLVED] within a minute of recovery",
            "  Recovery: run `make load LOAD_ERRORS=0 LOAD_REQUESTS=6000` until the 30m error "
            "ratio is under 0.6% (the page's 6x over 6h and 30m)",
            f"  {prometheus}/graph?g0.expr=slo%3Asli_error%3Aratio_rate5m   the recorded "
            "error ratios",
            "",
        ]
    )


def run(args: argparse.Namespace) -> int:
    bound = {"max_seconds": args.max_seconds}
    clean = [
        Loop(args.fastapi_url, FASTAPI_CLEAN_PATHS, args.requests, args.parallel, **bound),
        Loop(args.django_url, DJANGO_CLEAN_PATHS, args.requests, args.parallel, **bound),
    ]
    pause = {"pause": ERROR_PAUSE_SECONDS, **bound}
    errors = [
        Loop(args.fastapi_url, [FASTAPI_ERROR_PATH], args.errors, **pause),
        Loop(args.django_url, [DJANGO_ERROR_PATH], args.errors, **pause),
    ]
    failed = False
    for phase, loops in (("traffic", clean), ("errors", errors)):
        for loop, result in zip(loops, run_together(loops), strict=True):
            print(f"{phase:>8} {loop.base_url}: {result.describe()}", flush=True)
            failed = failed or bool(result.failures)
    print(what_to_watch(args))
    if failed:
        print("some requests got no answer: is the stack running at those URLs?", file=sys.stderr)
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    return run(parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
