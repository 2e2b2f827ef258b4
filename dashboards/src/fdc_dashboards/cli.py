"""`fdc-dashboards write` writes the JSON into the umbrella chart; `fdc-dashboards check` exits 1
when the files there differ from what the generator writes."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fdc_dashboards import generate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fdc-dashboards", description=__doc__)
    parser.add_argument("command", choices=["write", "check"])
    parser.add_argument(
        "--dir", type=Path, default=generate.OUTPUT_DIR, help="default: %(default)s"
    )
    args = parser.parse_args(argv)
    if args.command == "write":
        for path in generate.write(args.dir):
            print(path)
        return 0
    problems = generate.differences(args.dir)
    for problem in problems:
        print(f"{args.dir}/{problem}", file=sys.stderr)
    if problems:
        print("regenerate with: make dashboards", file=sys.stderr)
    return 1 if problems else 0
