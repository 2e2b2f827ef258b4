"""Render the umbrella chart (charts/fdc-stack) where kube-prometheus-stack cannot be downloaded.

kube-prometheus-stack comes from a chart repository this machine cannot reach, so
`helm dependency build charts/fdc-stack` fails here. `build_umbrella()` makes a temporary copy
of the whole charts/ tree in which that one dependency is a STAND-IN: a chart of the same name
and locked version with no values and one template (the Alertmanager config Secret, see
`_ALERTMANAGER_SECRET_STAND_IN`), referenced through `file://`. It writes a
Chart.lock for the copy (Helm's own digest, `lock_digest`) and runs the real
`helm dependency build` there, so our four charts are packaged exactly as on a user's machine.
Rendering that copy shows everything of ours and, of kube-prometheus-stack, only that Secret.

When the real dependency is present (`charts/fdc-stack/charts/kube-prometheus-stack-*.tgz`,
left by a `helm dependency build` that could reach the repository), `kps="real"` puts that
archive in place of the stand-in, so the same copy renders the real thing. Nothing is written
under charts/.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml

from testkit.helm import CHARTS_DIR, Rendered, render
from testkit.tools import require_tool

UMBRELLA = "fdc-stack"
KPS = "kube-prometheus-stack"
KPS_ARCHIVE_ENV = "FDC_KPS_ARCHIVE"
KpsKind = Literal["stub", "real"]

# Helm's chart.Dependency as Go marshals it to JSON: field order, and which are `omitempty`.
_DEPENDENCY_FIELDS = (
    ("name", False),
    ("version", True),
    ("repository", False),
    ("condition", True),
    ("tags", True),
    ("enabled", True),
    ("import-values", True),
    ("alias", True),
)
_TIMEOUT_S = 180


def _go_dependency(dependency: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, omit_empty in _DEPENDENCY_FIELDS:
        value = dependency.get(key)
        if omit_empty and not value:
            continue
        out[key] = "" if value is None else value
    return out


def lock_digest(
    requirements: Sequence[Mapping[str, Any]], locked: Sequence[Mapping[str, Any]]
) -> str:
    """Chart.lock's `digest`, as Helm computes it (`resolver.HashReq`): sha256 over the JSON of
    [Chart.yaml's dependencies, the locked ones], marshalled as Go does (compact, struct field
    order, empty optional fields left out, `<`, `>` and `&` escaped)."""
    payload = [[_go_dependency(d) for d in requirements], [_go_dependency(d) for d in locked]]
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def locked_version(chart_dir: Path, name: str) -> str:
    for dependency in read_yaml(chart_dir / "Chart.lock")["dependencies"]:
        if dependency["name"] == name:
            return str(dependency["version"])
    raise LookupError(f"{chart_dir / 'Chart.lock'} locks no dependency named {name}")


def real_kps_archive() -> Path | None:
    """The real kube-prometheus-stack archive `helm dependency build` left, if any, or the one
    `$FDC_KPS_ARCHIVE` names (an archive packaged elsewhere, e.g. from a checkout of
    prometheus-community/helm-charts, so that nothing is put under charts/)."""
    given = os.environ.get(KPS_ARCHIVE_ENV)
    if given:
        return Path(given) if Path(given).is_file() else None
    chart_dir = CHARTS_DIR / UMBRELLA
    archive = chart_dir / "charts" / f"{KPS}-{locked_version(chart_dir, KPS)}.tgz"
    return archive if archive.is_file() else None


def _ignore_build_output(directory: str, names: list[str]) -> set[str]:
    # Each chart's charts/ (dependency archives) and helm's tmpcharts*: build output, not source.
    is_chart = Path(directory, "Chart.yaml").is_file()
    return {n for n in names if is_chart and (n == "charts" or n.startswith("tmpcharts"))}


# The stub's one template, a STAND-IN for kube-prometheus-stack 88.x's
# templates/alertmanager/secret.yaml: the same Secret (`alertmanager-<kps fullname>-alertmanager`,
# key `alertmanager.yaml`) from the same value (`alertmanager.config`), so that `make local` and
# the pipeline test read the Alertmanager configuration from the rendered Secret with the stub
# and with the real chart alike. Nothing else of the chart is imitated.
_ALERTMANAGER_SECRET_STAND_IN = """\
{{- /* STAND-IN for kube-prometheus-stack's Alertmanager config Secret (testkit.chart_stub) */ -}}
{{- $am := .Values.alertmanager | default dict -}}
{{- if and (ne (toString $am.enabled) "false") $am.config -}}
{{- $fullname := .Values.fullnameOverride | default (printf "%s-%s" .Release.Name .Chart.Name) -}}
{{- if and (not .Values.fullnameOverride) (contains .Chart.Name .Release.Name) -}}
{{- $fullname = .Release.Name -}}
{{- end }}
apiVersion: v1
kind: Secret
metadata:
  name: alertmanager-{{ $fullname | trunc 26 | trimSuffix "-" }}-alertmanager
  namespace: {{ .Release.Namespace }}
data:
{{- if $am.tplConfig }}
  alertmanager.yaml: {{ tpl (toYaml $am.config) . | b64enc | quote }}
{{- else }}
  alertmanager.yaml: {{ toYaml $am.config | b64enc | quote }}
{{- end }}
{{- end }}
"""


def _write_stub(directory: Path, version: str) -> None:
    directory.mkdir(parents=True)
    chart = {
        "apiVersion": "v2",
        "name": KPS,
        "version": version,
        "description": "STAND-IN for kube-prometheus-stack in tests: renders only the "
        "Alertmanager config Secret.",
    }
    (directory / "Chart.yaml").write_text(yaml.safe_dump(chart), encoding="utf-8")
    (directory / "values.yaml").write_text("{}\n", encoding="utf-8")
    (directory / "templates").mkdir()
    (directory / "templates" / "alertmanager-secret.yaml").write_text(
        _ALERTMANAGER_SECRET_STAND_IN, encoding="utf-8"
    )


def _point_kps_at_stub(umbrella: Path, stub: Path) -> None:
    """Chart.yaml's kube-prometheus-stack entry -> file:// the stub; Chart.lock to match."""
    chart = read_yaml(umbrella / "Chart.yaml")
    lock = read_yaml(umbrella / "Chart.lock")
    stub_url = f"file://{stub}"
    for dependency in (*chart["dependencies"], *lock["dependencies"]):
        if dependency["name"] == KPS:
            dependency["repository"] = stub_url
    lock["digest"] = lock_digest(chart["dependencies"], lock["dependencies"])
    (umbrella / "Chart.yaml").write_text(yaml.safe_dump(chart, sort_keys=False), encoding="utf-8")
    (umbrella / "Chart.lock").write_text(yaml.safe_dump(lock, sort_keys=False), encoding="utf-8")


def build_umbrella(workdir: Path, *, helm: str = "helm", kps: KpsKind = "stub") -> Path:
    """A copy of charts/ under `workdir` with its dependencies built; returns the umbrella's
    directory in it. `kps="real"` needs `real_kps_archive()` (raises FileNotFoundError)."""
    real = real_kps_archive() if kps == "real" else None
    if kps == "real" and real is None:
        raise FileNotFoundError(f"no {KPS} archive in {CHARTS_DIR / UMBRELLA / 'charts'}")
    charts = workdir / "charts"
    shutil.copytree(CHARTS_DIR, charts, ignore=_ignore_build_output)
    umbrella = charts / UMBRELLA
    stub = workdir / "stand-ins" / KPS
    _write_stub(stub, locked_version(umbrella, KPS))
    _point_kps_at_stub(umbrella, stub)
    command = [str(require_tool(helm)), "dependency", "build", str(umbrella)]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=_TIMEOUT_S, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"`{' '.join(command)}` exited {result.returncode}:\n{result.stdout}{result.stderr}"
        )
    if real is not None:
        shutil.copy2(real, umbrella / "charts" / f"{KPS}-{locked_version(umbrella, KPS)}.tgz")
    return umbrella


_WORKDIRS: list[Path] = []


@atexit.register
def _clean_workdirs() -> None:
    for workdir in _WORKDIRS:
        shutil.rmtree(workdir, ignore_errors=True)


@cache
def built_umbrella(helm: str = "helm", kps: KpsKind = "stub") -> Path:
    """`build_umbrella` once per (helm, kps) in this process, in a temporary folder removed at
    exit: building takes a few seconds, rendering it again a fraction of one."""
    workdir = Path(tempfile.mkdtemp(prefix=f"fdc-stack-{helm}-{kps}-"))
    _WORKDIRS.append(workdir)
    return build_umbrella(workdir, helm=helm, kps=kps)


def render_umbrella(
    *,
    helm: str = "helm",
    kps: KpsKind = "stub",
    release: str = "fdc",
    namespace: str = "monitoring",
    values: Iterable[str | Path] = (),
    sets: Mapping[str, Any] | None = None,
    include_crds: bool = True,
    extra_args: Sequence[str] = (),
) -> Rendered:
    """`helm template` of the built umbrella (see `built_umbrella`), parsed. The real
    kube-prometheus-stack's CRDs hold a bare `=` that PyYAML cannot load: render the real one
    with `include_crds=False`."""
    return render(
        built_umbrella(helm, kps),
        helm=helm,
        release=release,
        namespace=namespace,
        values=values,
        sets=sets,
        include_crds=include_crds,
        extra_args=extra_args,
    )
