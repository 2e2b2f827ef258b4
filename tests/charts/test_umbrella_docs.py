"""The umbrella's README values table is generated from values.yaml's @param comments, and its
schema covers exactly those keys (the subcharts' sections are theirs to document and check)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

from testkit import helm

from .test_chart_common import _leaf_types, _readme_generator

UMBRELLA = helm.chart_path("fdc-stack")
SUBCHARTS = (
    "fastdining-api",
    "airestaurant",
    "discord-relay",
    "sloalert-operator",
    "kube-prometheus-stack",
)
REGENERATE = (
    "node_modules/.bin/readme-generator --values charts/fdc-stack/values.yaml "
    "--readme charts/fdc-stack/README.md"
)


def test_readme_table_and_schema_follow_the_values(tmp_path: Path) -> None:
    copy = tmp_path / "README.md"
    shutil.copy(UMBRELLA / "README.md", copy)
    subprocess.run(
        [str(_readme_generator()), "--values", str(UMBRELLA / "values.yaml"),
         "--readme", str(copy), "--schema", str(tmp_path / "schema.json")],
        check=True, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert copy.read_text() == (UMBRELLA / "README.md").read_text(), f"stale: run `{REGENERATE}`"
    generated = _leaf_types(json.loads((tmp_path / "schema.json").read_text()))
    # The generator leaves `[object]` params (free-form maps) out of its schema; ours has them.
    free_form = re.findall(
        r"^## @param (\S+) \[object\]", (UMBRELLA / "values.yaml").read_text(), re.M
    )
    generated |= {path: {"object"} for path in free_form}
    ours = {
        path: kinds
        for path, kinds in _leaf_types(
            json.loads((UMBRELLA / "values.schema.json").read_text())
        ).items()
        if path != "global" and path.split(".")[0] not in SUBCHARTS
    }
    assert ours.keys() == generated.keys(), "schema and @param keys differ"
    for path, kinds in generated.items():
        assert kinds <= ours[path], f"{path} is {ours[path]} in the schema, not {kinds}"
