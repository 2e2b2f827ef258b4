"""The SLOAlerts the umbrella ships: a byte-identical copy of manifests/slo (one source), each
with a switch, each valid for the real `sloalert validate`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from testkit import stack_config
from testkit.tools import REPO_ROOT

MANIFESTS = REPO_ROOT / "manifests" / "slo"
RESYNC = "rm charts/fdc-stack/slo/*.yaml && cp manifests/slo/*.yaml charts/fdc-stack/slo/"


def test_the_copy_is_manifests_slo_byte_for_byte() -> None:
    source = {path.name: path.read_bytes() for path in MANIFESTS.glob("*.yaml")}
    copy = {path.name: path.read_bytes() for path in stack_config.all_sloalert_files()}
    assert source, f"no SLOAlerts in {MANIFESTS}"
    assert sorted(copy) == sorted(source), f"the file lists differ: run `{RESYNC}`"
    stale = [name for name in source if copy[name] != source[name]]
    assert not stale, f"{stale} differ from manifests/slo: run `{RESYNC}`"


def test_every_shipped_slo_has_a_switch_and_every_switch_a_file() -> None:
    names = {stack_config.sloalert_name(path) for path in stack_config.all_sloalert_files()}
    switches = stack_config.values()["sloAlerts"]["slos"]
    assert set(switches) == names
    assert stack_config.shipped_sloalert_files() == stack_config.all_sloalert_files()


def test_shipped_slos_pass_sloalert_validate() -> None:
    files = [str(path) for path in stack_config.shipped_sloalert_files()]
    command = [str(Path(sys.executable).with_name("sloalert")), "validate", *files]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_sloalert_validate_can_refuse(tmp_path: Path) -> None:
    """The check above can fail: an objective of 100 leaves no error budget."""
    [first, *_] = stack_config.shipped_sloalert_files()
    broken = tmp_path / first.name
    broken.write_text(first.read_text().replace("objective: 99.9", "objective: 100"))
    assert broken.read_text() != first.read_text()
    command = [str(Path(sys.executable).with_name("sloalert")), "validate", str(broken)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 1
    assert "objective" in result.stdout + result.stderr
