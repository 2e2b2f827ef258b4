"""Build every dashboard and write it as JSON: the one place the files come from.

The output is deterministic (keys sorted, panel ids numbered in order), so the committed files
can be compared with a fresh build.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from grafana_foundation_sdk.builders import dashboard
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import dashboard as model

from fdc_dashboards import alerting_path, services, slos

# Where the umbrella chart picks them up (one ConfigMap per file, for Grafana's sidecar).
OUTPUT_DIR: Final = Path(__file__).resolve().parents[3] / "charts" / "fdc-stack" / "dashboards"

BUILDERS: Final[dict[str, Callable[[], dashboard.Dashboard]]] = {
    services.UID: services.build,
    slos.UID: slos.build,
    alerting_path.UID: alerting_path.build,
}


def build(uid: str) -> model.Dashboard:
    board = BUILDERS[uid]().build()
    for number, panel in enumerate(board.panels or [], start=1):
        panel.id_val = number
    return board


def to_json(board: model.Dashboard) -> dict[str, Any]:
    """The dashboard as Grafana reads it (plain JSON types)."""
    return json.loads(JSONEncoder().encode(board))


def render(uid: str) -> str:
    return json.dumps(to_json(build(uid)), indent=2, sort_keys=True) + "\n"


def file_name(uid: str) -> str:
    return f"{uid}.json"


def rendered() -> dict[str, str]:
    """Every dashboard's file name and text."""
    return {file_name(uid): render(uid) for uid in BUILDERS}


def write(directory: Path = OUTPUT_DIR) -> list[Path]:
    """Write every dashboard into `directory`, and remove JSON files no dashboard writes."""
    directory.mkdir(parents=True, exist_ok=True)
    files = rendered()
    for stale in directory.glob("*.json"):
        if stale.name not in files:
            stale.unlink()
    written = []
    for name, text in files.items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def differences(directory: Path = OUTPUT_DIR) -> list[str]:
    """The files in `directory` that differ from a fresh build, are missing or are extra."""
    files = rendered()
    on_disk = {path.name: path for path in directory.glob("*.json")}
    problems = [f"{name}: extra (no dashboard writes it)" for name in on_disk if name not in files]
    for name, text in files.items():
        if name not in on_disk:
            problems.append(f"{name}: missing")
        elif on_disk[name].read_text(encoding="utf-8") != text:
            problems.append(f"{name}: differs from what the generator writes")
    return sorted(problems)
