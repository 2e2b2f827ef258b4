"""The `sloalert` console script, run as a process from the venv."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from testkit import sloalert_testdata as corpus


def test_sloalert_is_installed_as_a_console_script() -> None:
    command = Path(sys.executable).parent / "sloalert"  # beside the venv's python
    assert command.is_file(), "the sloalert console script is not installed (uv sync)"
    done = subprocess.run(
        [command, "validate", str(corpus.MANIFESTS)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("ok: ")
