"""Chart scenarios: every chart x (defaults + each ci/*-values.yaml) x helm v4 and v3.

Each is rendered once a session (`testkit.helm.render_cached`) and shared by every chart test.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from testkit import helm

COMPONENT_CHARTS = ("fastdining-api", "airestaurant", "discord-relay", "sloalert-operator")
# Not `default`: releases go to their own namespace (checkov's CKV_K8S_21 says the same).
NAMESPACE = "observability"


@dataclass(frozen=True)
class Case:
    """One `helm template`: a chart, a scenario file (None: the defaults), a helm binary."""

    chart: str
    scenario: Path | None
    helm: str

    @property
    def id(self) -> str:
        return f"{self.chart}:{self.scenario.name if self.scenario else 'defaults'}:{self.helm}"

    def render(self) -> helm.Rendered:
        values = (self.scenario,) if self.scenario else ()
        return helm.render_cached(self.chart, self.helm, values, NAMESPACE)


CASES = [
    Case(chart, scenario, binary)
    for chart in COMPONENT_CHARTS
    for scenario in [None, *helm.scenario_files(chart)]
    for binary in helm.HELM_BINARIES
]


@pytest.fixture(params=CASES, ids=lambda case: case.id)
def case(request: pytest.FixtureRequest) -> Case:
    return request.param


@pytest.fixture(scope="session")
def every_case() -> list[Case]:
    return CASES
