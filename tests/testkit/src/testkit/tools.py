"""Find the real tools (promtool, alertmanager, helm, ...) that tests run.

Tools come from the project's own `.tools/bin` (filled by `make setup`) first, then from PATH.
A missing tool skips the test locally, with a message naming `make setup`; under `CI=true`
a missing tool fails the test, because CI must never pass by skipping.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[4]
TOOLS_BIN = REPO_ROOT / ".tools" / "bin"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def find_tool(name: str) -> Path | None:
    """Return the path of `name`, preferring the project's `.tools/bin` over PATH."""
    candidate = TOOLS_BIN / name
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return candidate
    found = shutil.which(name)
    return Path(found) if found else None


def require_tool(name: str) -> Path:
    """Path of `name`, or skip (locally) / fail (under CI) the calling test."""
    path = find_tool(name)
    if path is not None:
        return path
    message = f"{name} not found in {TOOLS_BIN} or on PATH: run `make setup`"
    if in_ci():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)
