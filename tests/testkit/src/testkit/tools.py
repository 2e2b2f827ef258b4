"""Find the real tools (promtool, alertmanager, helm, ...) that tests run.

Tools come from the project's own `.tools/bin` (filled by `make setup`) first, then from PATH.
A missing tool skips the test locally, with a message naming `make setup`; under `CI=true`
a missing tool fails the test, because CI must never pass by skipping.

Which tools, and which versions fit, is `scripts/tools.txt`: the same list
`scripts/install-tools.sh` installs from, read here by `tool_specs()`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[4]
TOOLS_BIN = REPO_ROOT / ".tools" / "bin"
TOOL_LIST = REPO_ROOT / "scripts" / "tools.txt"

Version = tuple[int, ...]
_VERSION = re.compile(r"\d+\.\d+(?:\.\d+)?")
# Exit codes that mean the tool never started (timeout, not executable, loader failure). Any other
# code still counts as running: `wrk -v` prints its version and exits 1.
_DID_NOT_START = {124, 126, 127}


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


def parse_version(text: str) -> Version | None:
    """The first dotted version in `text` ("prometheus, version 3.5.3+ds1" -> (3, 5, 3))."""
    match = _VERSION.search(text)
    return tuple(int(part) for part in match.group().split(".")) if match else None


@dataclass(frozen=True)
class ToolSpec:
    """One line of scripts/tools.txt: a tool and the versions of it that fit."""

    name: str
    minimum: Version
    below: Version | None
    version_args: tuple[str, ...]
    source: str

    def fits(self, version: Version) -> bool:
        return version >= self.minimum and (self.below is None or version < self.below)

    def describe(self) -> str:
        wanted = f">= {'.'.join(map(str, self.minimum))}"
        if self.below is not None:
            wanted += f" and < {'.'.join(map(str, self.below))}"
        return wanted


def _required_version(field: str, line: str) -> Version:
    version = parse_version(field) if field != "0" else (0,)
    if version is None:
        raise ValueError(f"{TOOL_LIST}: bad version {field!r} in line {line!r}")
    return version


def parse_tool_list(text: str) -> dict[str, ToolSpec]:
    """Parse the tools.txt format: `name minimum below version-args on-path source`."""
    specs: dict[str, ToolSpec] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        if len(fields) != 6:
            raise ValueError(f"{TOOL_LIST}: expected 6 columns, got {len(fields)}: {line!r}")
        name, minimum, below, args, _on_path, source = fields
        specs[name] = ToolSpec(
            name=name,
            minimum=_required_version(minimum, line),
            below=None if below == "-" else _required_version(below, line),
            version_args=tuple(args.split(",")),
            source=source,
        )
    return specs


def tool_specs() -> dict[str, ToolSpec]:
    """Every tool the tests may need, by name, as scripts/tools.txt lists them."""
    return parse_tool_list(TOOL_LIST.read_text(encoding="utf-8"))


def tool_version(name: str) -> Version:
    """Run the tool (found as `require_tool` does) and return the version it prints.

    Raises RuntimeError, with the tool's output, when it does not start or prints no version.
    """
    path = require_tool(name)
    command = [str(path), *tool_specs()[name].version_args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    output = result.stdout + result.stderr
    version = parse_version(output) if result.returncode not in _DID_NOT_START else None
    if version is None:
        raise RuntimeError(
            f"`{' '.join(command)}` did not print a version (exit {result.returncode}):\n{output}"
        )
    return version
