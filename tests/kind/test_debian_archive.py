"""The tool install authenticates Debian's archive on a machine without Debian's keys in apt's
trusted folder (Ubuntu: GitHub's runners, most kind users).

scripts/lib/debian.sh keeps a private apt state whose trusted folder is empty, and names Debian's
keyring with `signed-by`: so this Debian machine is, to apt, exactly such a machine. Both halves
are shown with the real archive: a line without `signed-by` in that state is refused (NO_PUBKEY,
the Ubuntu failure), and `deb_update` with the script's own line succeeds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from testkit.tools import REPO_ROOT, in_ci

DEBIAN_SH = REPO_ROOT / "scripts" / "lib" / "debian.sh"
SUITE = "sid"

pytestmark = pytest.mark.integration


def _bash(script: str, tools_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", f"set -euo pipefail; source {DEBIAN_SH}; {script}"],
        env={**os.environ, "TOOLS_DIR": str(tools_dir)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(autouse=True)
def _apt() -> None:
    if shutil.which("apt-get") is None:
        message = "apt-get is not installed: the tool install runs on Debian and Ubuntu only"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)


def test_the_private_state_names_the_keyring_and_trusts_nothing_else(tmp_path: Path) -> None:
    result = _bash(f"_deb_state {SUITE} >/dev/null", tmp_path)
    assert result.returncode == 0, result.stderr
    state = tmp_path / "apt" / SUITE
    keyring = "/usr/share/keyrings/debian-archive-keyring.gpg"
    assert (state / "sources.list").read_text() == (
        f"deb [signed-by={keyring}] http://deb.debian.org/debian {SUITE} main\n"
    )
    assert list((state / "trusted.gpg.d").iterdir()) == []


def test_without_signed_by_the_archive_is_refused_in_that_state(tmp_path: Path) -> None:
    """The Ubuntu failure, reproduced: proof that the trusted folder is out of the picture."""
    script = (
        f"state=$(_deb_state {SUITE}); "
        f"echo 'deb http://deb.debian.org/debian {SUITE} main' > $state/unsigned.list; "
        "_deb_apt_in $state $state/unsigned.list update"
    )
    result = _bash(script, tmp_path)
    assert result.returncode != 0
    assert "NO_PUBKEY" in result.stdout + result.stderr


def test_deb_update_authenticates_the_archive_with_the_keyring(tmp_path: Path) -> None:
    result = _bash(f"deb_update {SUITE} force && deb_files {SUITE} kind", tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "NO_PUBKEY" not in result.stderr
    assert result.stdout.strip().startswith("kind_"), result.stdout
    assert list((tmp_path / "apt" / SUITE / "lists").glob("*InRelease"))
