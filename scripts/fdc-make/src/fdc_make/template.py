"""`make template`: the umbrella rendered for review, on stdout.

With the network, the real kube-prometheus-stack (`helm dependency build` from its repository, the
install's own commands). Without it, our own objects alone: a copy of charts/ in which the umbrella
has no kube-prometheus-stack dependency, rendered with kube-prometheus-stack disabled (the
umbrella's own scenario for that, ci/existing-kps-values.yaml: with it disabled the chart expects
one running beside it, and refuses values that could not reach it), and stderr says so. Nothing
under charts/ changes in that case.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from fdc_make.kind import INSTALL_DEPENDENCIES, NAMESPACE, RELEASE, ROOT

KPS = "kube-prometheus-stack"
WITHOUT_KPS_VALUES = "ci/existing-kps-values.yaml"
NETWORK_TIMEOUT_S = 60


def without_kps(chart_yaml: str) -> str:
    """The umbrella's Chart.yaml with the kube-prometheus-stack dependency entry removed."""
    return re.sub(rf"^  - name: {KPS}\n(?:    .*\n)*", "", chart_yaml, flags=re.MULTILINE)


def _helm(helm: str, *args: str, cwd: Path = ROOT, timeout: float = NETWORK_TIMEOUT_S) -> bool:
    answer = subprocess.run(
        [helm, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    if answer.returncode != 0:
        sys.stderr.write(answer.stderr)
    return answer.returncode == 0


def fetch_real(helm: str) -> bool:
    """The install's own dependency commands; False when the repository cannot be reached."""
    try:
        return all(_helm(helm, *line.split()[1:]) for line in INSTALL_DEPENDENCIES)
    except subprocess.TimeoutExpired:
        return False


def render(helm: str, chart: Path, *extra: str) -> int:
    command = [helm, "template", RELEASE, str(chart), "--namespace", NAMESPACE, *extra]
    return subprocess.run(command, cwd=ROOT, check=False).returncode


def ours_alone(helm: str) -> int:
    with tempfile.TemporaryDirectory(prefix="fdc-template-") as tmp:
        charts = Path(tmp) / "charts"
        shutil.copytree(
            ROOT / "charts", charts, ignore=shutil.ignore_patterns("charts", "tmpcharts*")
        )
        umbrella = charts / "fdc-stack"
        chart_yaml = umbrella / "Chart.yaml"
        chart_yaml.write_text(without_kps(chart_yaml.read_text(encoding="utf-8")))
        (umbrella / "Chart.lock").unlink(missing_ok=True)
        if not _helm(helm, "dependency", "update", "--skip-refresh", str(umbrella), cwd=charts):
            return 1
        values = umbrella / WITHOUT_KPS_VALUES
        return render(helm, umbrella, "--values", str(values), "--set", f"{KPS}.enabled=false")


def template(helm: str) -> int:
    if fetch_real(helm):
        return render(helm, ROOT / "charts" / "fdc-stack")
    sys.stderr.write(
        f"make template: {KPS} could not be fetched (no network to its chart repository): "
        f"rendering our own objects alone, with {KPS} disabled (charts/fdc-stack/"
        f"{WITHOUT_KPS_VALUES}: as installed next to an existing one). Its Prometheus, "
        "Alertmanager, Grafana and rules are not in this output.\n"
    )
    return ours_alone(helm)
