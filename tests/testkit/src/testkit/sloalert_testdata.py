"""The example resources in operator/testdata, with what each invalid one expects.

Read by the operator's unit, integration and cluster tests alike, so it lives here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from testkit.tools import REPO_ROOT

OPERATOR = REPO_ROOT / "operator"
TESTDATA = OPERATOR / "testdata"
MANIFESTS = OPERATOR.parent / "manifests" / "slo"
CRD = OPERATOR / "crds" / "slo.fastdining.dev_sloalerts.yaml"
EXPECT = "testdata.slo.fastdining.dev/"

# Who refuses an invalid example first: the schema (types, enums, bounds, patterns, required),
# strict field validation (unknown fields, as kubectl apply does), a CEL rule, or only sloalert
# (the API server accepts it; the operator reports Ready=False).
REFUSERS = ("schema", "unknown-field", "cel", "sloalert")


@dataclass(frozen=True)
class Example:
    path: Path
    body: dict[str, Any]

    @property
    def id(self) -> str:
        return self.path.stem

    def expect(self, key: str) -> str:
        return self.body["metadata"]["annotations"][EXPECT + key]

    @property
    def refused_by(self) -> str:
        return self.expect("refused-by")

    @property
    def field(self) -> str:
        return self.expect("field")

    @property
    def says(self) -> str:
        return self.expect("says")


def _examples(folder: Path) -> list[Example]:
    return [
        Example(path, yaml.safe_load(path.read_text(encoding="utf-8")))
        for path in sorted(folder.glob("*.yaml"))
    ]


def valid() -> list[Example]:
    """Valid examples: testdata/valid and every manifest in manifests/slo."""
    return _examples(TESTDATA / "valid") + _examples(MANIFESTS)


def invalid() -> list[Example]:
    return _examples(TESTDATA / "invalid")


def golden_inputs() -> list[Example]:
    return _examples(TESTDATA / "golden" / "in")
