"""Every panel query of a dashboard JSON file, and the variable values that make it plain PromQL.

For checkers outside Grafana (the parse test here, the whole-path dead-query check against a
real Prometheus): `panel_queries(path)` lists (dashboard, panel, expr) and `substitute(expr)`
replaces the template variables with values Prometheus accepts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

# What each variable stands for outside Grafana. `$slo` has no default: pass a shipped SLO's
# name (any burn-rate SLOAlert), or ".*" for all of them.
SUBSTITUTIONS: Final = {
    "namespace": ".*",  # the namespace picker's All, which also matches no namespace label
    "group": ".*",  # the SLOs dashboard's group picker's All (also SLOs without groups)
    "__rate_interval": "1m",  # at least four scrapes at the umbrella's 15 s interval
}
SLO_VARIABLE: Final = "slo"
# `$name`, `${name}` and `[[name]]`, the forms Grafana expands.
_VARIABLE: Final = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]")
# Panels that rightly show nothing while all is well: they list what is firing now.
_EMPTY_WHEN_HEALTHY: Final = re.compile(r"^ALERTS\{")


@dataclass(frozen=True)
class PanelQuery:
    dashboard: str  # the dashboard's title
    panel: str  # the panel's title
    expr: str  # as Grafana stores it, variables and all
    # False for a query that returns data only while something is wrong (firing alerts).
    expects_data: bool = True


def panel_queries(path: Path) -> list[PanelQuery]:
    """Every Prometheus query of every panel in the dashboard JSON file `path`, in order."""
    board = json.loads(path.read_text(encoding="utf-8"))
    return [
        PanelQuery(
            board["title"],
            panel["title"],
            target["expr"],
            expects_data=not _EMPTY_WHEN_HEALTHY.match(target["expr"]),
        )
        for panel in _panels(board)
        for target in panel.get("targets", [])
        if "expr" in target
    ]


def substitute(expr: str, slo: str, values: Mapping[str, str] = SUBSTITUTIONS) -> str:
    """`expr` with every template variable replaced; a variable it does not know is an error."""
    known = {**values, SLO_VARIABLE: slo}

    def value(match: re.Match[str]) -> str:
        name = next(group for group in match.groups() if group)
        if name not in known:
            raise KeyError(f"no value for the variable ${name} in {expr!r}")
        return known[name]

    return _VARIABLE.sub(value, expr)


def _panels(board: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Top-level panels and those inside collapsed rows."""
    found = []
    for panel in board.get("panels", []):
        found.append(panel)
        found.extend(panel.get("panels", []))
    return found
