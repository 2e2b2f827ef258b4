"""`make lint`'s secrets check (scripts/check_secrets.py), run on throwaway git repositories.

It must fail on a new finding (committed or not) and on a baseline entry nobody audited, and
not mind a known finding moving to another line. (The repository itself is checked by
`make lint`, not here: a scan of every file takes half a minute.)
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CHECK = Path(__file__).resolve().parents[1] / "scripts" / "check_secrets.py"
# Made up, and allowlisted here so that this file is no finding itself.
FIXTURE = 'DATABASE_PASSWORD = "k9Qz2mT7vX4bN8rLq3"\n'  # pragma: allowlist secret
NEW_FINDING = 'SMTP_PASSWORD = "Zp4Lm8Qw2Rt6Yx1Vb9Nc3"\n'  # pragma: allowlist secret


def run(where: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(CHECK)], cwd=where, capture_output=True, text=True, timeout=120
    )


def git(where: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=where, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository with one known finding, audited in its baseline."""
    if shutil.which("git") is None:
        pytest.fail("git is needed to list the files the check scans")
    git(tmp_path, "init", "-q")
    (tmp_path / "settings.py").write_text(f"# a fixture\n{FIXTURE}")
    scanned = subprocess.run(
        [sys.executable, "-m", "detect_secrets", "scan", "settings.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    baseline = json.loads(scanned.stdout)
    [entry] = baseline["results"]["settings.py"]
    entry.update(is_secret=False, reason="test fixture")
    (tmp_path / ".secrets.baseline").write_text(json.dumps(baseline, indent=2))
    git(tmp_path, "add", ".")
    return tmp_path


def test_an_audited_finding_passes_even_on_another_line(repo: Path) -> None:
    (repo / "settings.py").write_text(f"# a fixture\n\n\n# moved\n{FIXTURE}")
    result = run(repo)
    assert result.returncode == 0, result.stderr
    assert "no new findings (1 audited" in result.stdout


@pytest.mark.parametrize("tracked", [True, False])
def test_a_new_finding_fails_tracked_or_not(repo: Path, tracked: bool) -> None:
    (repo / "deploy.py").write_text(NEW_FINDING)
    if tracked:
        git(repo, "add", "deploy.py")
    result = run(repo)
    assert result.returncode == 1
    assert "deploy.py:1:" in result.stderr


def test_a_baseline_entry_without_an_audit_fails(repo: Path) -> None:
    baseline = json.loads((repo / ".secrets.baseline").read_text())
    del baseline["results"]["settings.py"][0]["reason"]
    (repo / ".secrets.baseline").write_text(json.dumps(baseline))
    result = run(repo)
    assert result.returncode == 1
    assert "without an audit" in result.stderr
