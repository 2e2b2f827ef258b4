"""`sloalert render`, `validate` and `check`: the generator offline, for CI and non-operator setups.

    sloalert validate manifests/slo
    sloalert render manifests/slo > rules.yaml                  # PrometheusRule objects
    sloalert render --format rules manifests/slo | promtool check rules
    sloalert check --prometheus http://localhost:9090 manifests/slo   # see check_command
    sloalert convert sloth-slos.yml openslo/ > slos.yaml        # see convert

Exit codes: 0 all good, 1 a resource is invalid (one line per problem on stdout for validate,
stderr for render), 2 bad usage; 141 when the reader of stdout went away (`| head`) and 130 on
Ctrl-C, both without a traceback, as other Unix tools end then.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, TextIO

from sloalert import check_command, convert, documents, render, series_check
from sloalert.errors import InvalidSLOAlert, Problem
from sloalert.generator import RuleSet, generate
from sloalert.models import SLOAlert
from sloalert.validation import load

# What a shell reports for a process ended by SIGPIPE or by Ctrl-C (128 + the signal).
EXIT_BROKEN_PIPE: Final = 128 + signal.SIGPIPE
EXIT_INTERRUPTED: Final = 128 + signal.SIGINT
FORMAT_PROMETHEUS_RULE = "prometheusrule"
FORMAT_RULES = "rules"


@dataclass(frozen=True)
class Loaded:
    document: documents.Document
    slo: SLOAlert
    rules: RuleSet


@dataclass(frozen=True)
class Report:
    """A problem located for a person: file, resource, field."""

    origin: str
    resource: str
    problem: Problem

    def __str__(self) -> str:
        where = f"{self.origin}: {self.resource}" if self.resource else self.origin
        return f"{where}: {self.problem}"


def load_all(paths: list[str], stdin: TextIO) -> tuple[list[Loaded], list[Report]]:
    loaded: list[Loaded] = []
    reports: list[Report] = []
    seen: dict[tuple[str | None, str], str] = {}
    for item in documents.read(paths, stdin):
        if isinstance(item, documents.Unreadable):
            reports.append(Report(item.origin, "", item.problem))
            continue
        try:
            slo = load(item.body)
        except InvalidSLOAlert as exc:
            reports.extend(Report(item.origin, item.name, problem) for problem in exc.problems)
            continue
        key = (slo.metadata.namespace, slo.metadata.name)
        if key in seen:
            reports.append(
                Report(
                    item.origin,
                    item.name,
                    Problem("metadata.name", f"already used by a resource in {seen[key]}"),
                )
            )
            continue
        seen[key] = item.origin
        loaded.append(Loaded(item, slo, generate(slo)))
    if not loaded and not reports:
        reports.append(Report(", ".join(paths), "", Problem("input", "no SLOAlert found")))
    return loaded, reports


def _validate(args: argparse.Namespace, stdin: TextIO, out: TextIO) -> int:
    loaded, reports = load_all(args.paths, stdin)
    for report in reports:
        print(report, file=out)
    if reports:
        return 1
    print(f"ok: {len(loaded)} SLOAlert(s) valid", file=out)
    return 0


def _render(args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO) -> int:
    loaded, reports = load_all(args.paths, stdin)
    if reports:
        # Nothing on stdout: a partial rule file is worse than none.
        for report in reports:
            print(report, file=err)
        return 1
    if args.format == FORMAT_RULES:
        out.write(render.to_yaml([render.rule_file(item.rules for item in loaded)]))
    else:
        labels = dict(args.label)
        out.write(
            render.to_yaml(
                render.prometheus_rule(item.slo, item.rules, extra_labels=labels) for item in loaded
            )
        )
    return 0


def _check(args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO) -> int:
    loaded, reports = load_all(args.paths, stdin)
    for report in reports:
        print(report, file=out)
    found = [
        check_command.Checked(
            item.document.origin,
            item.document.name,
            series_check.probes(item.slo.spec),
            series_check.grouping(item.slo.spec),
        )
        for item in loaded
    ]
    if not found:
        return check_command.EXIT_DEAD  # nothing valid to ask Prometheus about
    return check_command.run(
        found, args.prometheus, out, err, timeout=args.timeout, invalid=len(reports)
    )


def _convert(args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO) -> int:
    """Sloth and OpenSLO in, SLOAlerts out: one per SLO, refusals on stderr (exit 1). With
    --strict any refusal means nothing is written."""
    items = documents.read(args.paths, stdin, keep=convert.is_source)
    results = list(convert.convert(items))
    refusals = [r for r in results if isinstance(r, convert.Refusal)]
    converted = [r.resource for r in results if isinstance(r, convert.Converted)]
    for refusal in refusals:
        print(refusal, file=err)
    if not results:
        print(f"{', '.join(args.paths)}: input: no Sloth or OpenSLO SLO found", file=err)
        return 1
    if converted and not (args.strict and refusals):
        out.write(render.to_yaml(converted, header=False))
    return 1 if refusals else 0


def _url(text: str) -> str:
    try:
        parts = urllib.parse.urlsplit(text)
        usable = parts.scheme in {"http", "https"} and bool(parts.hostname) and parts.port != 0
    except ValueError:  # a bad port or IPv6 address
        usable = False
    if not usable:
        raise argparse.ArgumentTypeError(f"{text!r} is not an http(s) URL like http://host:9090")
    return text


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not seconds > 0 or math.isinf(seconds):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds above 0")
    return seconds


def _label(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=VALUE")
    return key, value


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="sloalert", description="SLOAlert resources in, Prometheus rules out."
    )
    commands = top.add_subparsers(dest="command", required=True)
    paths_help = "YAML files, directories (searched recursively) or - for stdin"

    validate = commands.add_parser(
        "validate", help="check resources; one line per problem, exit 1 if any"
    )
    validate.add_argument("paths", nargs="+", metavar="FILE|DIR|-", help=paths_help)

    rendering = commands.add_parser("render", help="print the rules generated from resources")
    rendering.add_argument("paths", nargs="+", metavar="FILE|DIR|-", help=paths_help)
    rendering.add_argument(
        "--format",
        choices=(FORMAT_PROMETHEUS_RULE, FORMAT_RULES),
        default=FORMAT_PROMETHEUS_RULE,
        help="prometheusrule: PrometheusRule objects (default); rules: a plain rule file",
    )
    rendering.add_argument(
        "--label",
        type=_label,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra label on each PrometheusRule, e.g. release=kube-prometheus-stack",
    )

    converting = commands.add_parser(
        "convert",
        help="print SLOAlerts converted from Sloth (prometheus/v1, PrometheusServiceLevel) and "
        "OpenSLO v1 documents; what cannot be converted is refused on stderr, exit 1",
    )
    converting.add_argument("paths", nargs="+", metavar="FILE|DIR|-", help=paths_help)
    converting.add_argument(
        "--strict",
        action="store_true",
        help="write nothing if any SLO is refused (default: write the others)",
    )

    checking = commands.add_parser(
        "check",
        help="ask a Prometheus whether the series each indicator reads exist; one line per "
        "selector that reads nothing, exit 1 if any, 2 if Prometheus cannot answer",
    )
    checking.add_argument("paths", nargs="+", metavar="FILE|DIR|-", help=paths_help)
    checking.add_argument(
        "--prometheus", required=True, type=_url, metavar="URL", help="e.g. http://localhost:9090"
    )
    checking.add_argument(
        "--timeout",
        type=_seconds,
        default=check_command.DEFAULT_TIMEOUT_SECONDS,
        metavar="SECONDS",
        help="give up (exit 2) after this long (default %(default)g)",
    )
    return top


def main(
    argv: Sequence[str] | None = None,
    stdin: TextIO | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    args = parser().parse_args(argv)
    stdin, out, err = stdin or sys.stdin, out or sys.stdout, err or sys.stderr
    try:
        code = _run(args, stdin, out, err)
        out.flush()  # a closed pipe shows here, not in the interpreter's own flush at exit
    except BrokenPipeError:
        # `sloalert render ... | head`: the reader has all it wants. Exit as a Unix tool
        # killed by SIGPIPE does, quietly; stdout goes to /dev/null so that Python's final
        # flush of what is still buffered cannot fail again.
        if out is sys.stdout:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    return code


def _run(args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO) -> int:
    if args.command == "validate":
        return _validate(args, stdin, out)
    if args.command == "check":
        return _check(args, stdin, out, err)
    if args.command == "convert":
        return _convert(args, stdin, out, err)
    return _render(args, stdin, out, err)


if __name__ == "__main__":
    sys.exit(main())
