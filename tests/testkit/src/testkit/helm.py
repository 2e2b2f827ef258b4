"""Run the real helm binaries (v4 as `helm`, v3 as `helm3`, from `.tools/bin`) on the charts.

`render()` is `helm template`: it returns the parsed documents, or raises `HelmError` carrying
helm's own message (schema failures name the value there). `lint()` is `helm lint --strict`.
Both find the binary through `testkit.tools.require_tool`, so a missing helm skips locally and
fails under CI.
"""

from __future__ import annotations

import functools
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from testkit.tools import REPO_ROOT, require_tool

CHARTS_DIR = REPO_ROOT / "charts"
# The two helm majors every chart must work with: the names of their binaries in .tools/bin.
HELM_BINARIES = ("helm", "helm3")
_TIMEOUT_S = 120

Manifest = dict[str, Any]


class HelmError(RuntimeError):
    """helm exited non-zero; `output` is what it printed (stdout and stderr)."""

    def __init__(self, command: Sequence[str], returncode: int, output: str) -> None:
        super().__init__(f"`{' '.join(command)}` exited {returncode}:\n{output}")
        self.command = list(command)
        self.returncode = returncode
        self.output = output


@dataclass(frozen=True)
class Rendered:
    """The output of one `helm template`: its documents, in order, and the raw text."""

    documents: list[Manifest]
    text: str

    def of_kind(self, kind: str) -> list[Manifest]:
        return [doc for doc in self.documents if doc.get("kind") == kind]

    def one(self, kind: str) -> Manifest:
        found = self.of_kind(kind)
        if len(found) != 1:
            names = [doc["metadata"]["name"] for doc in found]
            raise AssertionError(f"expected one {kind}, rendered {len(found)}: {names}")
        return found[0]


def chart_path(chart: str | Path) -> Path:
    """A chart name under `charts/` ("discord-relay") or any chart directory."""
    path = Path(chart)
    return path if path.is_dir() else CHARTS_DIR / str(chart)


def scenario_files(chart: str | Path) -> list[Path]:
    """The chart's `ci/*-values.yaml` scenarios, sorted by name."""
    return sorted((chart_path(chart) / "ci").glob("*-values.yaml"))


def _run(helm: str, args: Sequence[str]) -> subprocess.CompletedProcess[str]:
    command = [str(require_tool(helm)), *args]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=_TIMEOUT_S, check=False
    )
    if result.returncode != 0:
        raise HelmError(command, result.returncode, result.stdout + result.stderr)
    return result


def _value_args(values: Iterable[str | Path], sets: Mapping[str, Any]) -> list[str]:
    args: list[str] = []
    for path in values:
        args += ["--values", str(path)]
    for key, value in sets.items():
        args += ["--set-string" if isinstance(value, str) else "--set", f"{key}={value}"]
    return args


def render(
    chart: str | Path,
    *,
    helm: str = "helm",
    release: str = "test",
    namespace: str = "default",
    values: Iterable[str | Path] = (),
    sets: Mapping[str, Any] | None = None,
    include_crds: bool = True,
    extra_args: Sequence[str] = (),
) -> Rendered:
    """`helm template` the chart and parse every document (empty documents dropped).

    `sets` maps keys to values: strings go through `--set-string`, anything else through `--set`
    (so `{"replicaCount": 2}` is a number and `{"replicaCount": "2"}` a string).
    """
    args = ["template", release, str(chart_path(chart)), "--namespace", namespace]
    args += _value_args(values, dict(sets or {}))
    if include_crds:
        args.append("--include-crds")
    text = _run(helm, [*args, *extra_args]).stdout
    documents = [doc for doc in yaml.safe_load_all(text) if doc]
    return Rendered(documents=documents, text=text)


@functools.cache
def render_cached(
    chart: str, helm: str = "helm", values: tuple[Path, ...] = (), namespace: str = "default"
) -> Rendered:
    """`render()` once per chart, helm, values files and namespace a session (do not mutate)."""
    return render(chart, helm=helm, values=values, namespace=namespace)


def lint(
    chart: str | Path,
    *,
    helm: str = "helm",
    values: Iterable[str | Path] = (),
    sets: Mapping[str, Any] | None = None,
) -> str:
    """`helm lint --strict`; returns helm's output, raises HelmError when lint fails."""
    args = ["lint", "--strict", str(chart_path(chart)), *_value_args(values, dict(sets or {}))]
    result = _run(helm, args)
    return result.stdout + result.stderr


def notes(
    chart: str | Path,
    *,
    release: str = "test",
    namespace: str = "default",
    values: Iterable[str | Path] = (),
    sets: Mapping[str, Any] | None = None,
) -> str:
    """The chart's rendered NOTES.txt, from helm v4's `install --dry-run=client`.

    A client-side dry run renders without any cluster (`lookup` returns nothing); helm v3's
    needs a reachable cluster, so this uses v4 only. Nothing is installed.
    """
    args = ["install", release, str(chart_path(chart)), "--namespace", namespace]
    args += ["--dry-run=client", *_value_args(values, dict(sets or {}))]
    output = _run("helm", args).stdout
    _, marker, text = output.partition("\nNOTES:\n")
    if not marker:
        raise AssertionError(f"helm printed no NOTES for {chart}:\n{output}")
    return text


def assert_refused(chart: str | Path, helm: str, sets: Mapping[str, Any], named: str) -> str:
    """`helm template` with `sets` must fail (schema or template `fail`) naming `named`."""
    try:
        render(chart, helm=helm, sets=sets)
    except HelmError as refused:
        assert named in refused.output, f"{sets} refused, {named!r} unnamed:\n{refused.output}"
        return refused.output
    raise AssertionError(f"helm {helm} rendered {chart} with {sets}: expected a refusal")
