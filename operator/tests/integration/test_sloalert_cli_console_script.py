"""The `sloalert` console script, run as a process from the venv: what a shell sees of it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from testkit import sloalert_testdata as corpus

COMMAND = Path(sys.executable).parent / "sloalert"  # beside the venv's python
INVALID = corpus.TESTDATA / "invalid"
EXIT_SIGPIPE = 128 + signal.SIGPIPE

pytestmark = pytest.mark.integration


def test_sloalert_is_installed_as_a_console_script() -> None:
    assert COMMAND.is_file(), "the sloalert console script is not installed (uv sync)"
    done = subprocess.run(
        [COMMAND, "validate", str(corpus.MANIFESTS)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("ok: ")


@pytest.mark.parametrize(
    "argv",
    [
        ["render", str(corpus.MANIFESTS)],
        ["render", "--format", "rules", str(corpus.MANIFESTS)],
        ["validate", str(INVALID)],
        ["convert", str(corpus.TESTDATA / "convert" / "sloth-getting-started.yml")],
        # Nothing valid to check: the problems are printed, Prometheus is never asked.
        ["check", "--prometheus", "http://127.0.0.1:9", str(INVALID)],
    ],
    ids=lambda argv: " ".join(argv[:1] + [a for a in argv[1:] if a.startswith("--")]),
)
def test_a_reader_that_goes_away_ends_it_quietly(argv: list[str]) -> None:
    """`sloalert ... | head`: the reader closes the pipe before the first line is written
    (head -n 0), so every write fails; the exit is SIGPIPE's, with no traceback."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # before the process writes anything: no race with its output
    try:
        done = subprocess.run(
            [COMMAND, *argv], stdout=write_end, stderr=subprocess.PIPE, text=True, check=False
        )
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (EXIT_SIGPIPE, "")


def test_piped_into_head_only_the_lines_reach_the_terminal() -> None:
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", f"'{COMMAND}' render '{corpus.MANIFESTS}' | head -n 2"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode in {0, EXIT_SIGPIPE}  # 0 when it wrote all before head left
    assert done.stderr == ""
    assert len(done.stdout.splitlines()) == 2


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["check", "--prometheus", "localhost:9090", "x"], "is not an http(s) URL"),
        (["check", "--prometheus", "http://[::1", "x"], "is not an http(s) URL"),
        (["check", "--prometheus", "http://h:1", "--timeout", "0", "x"], "seconds above 0"),
        (["render", "--label", "novalue", "x"], "is not KEY=VALUE"),
    ],
)
def test_bad_usage_is_one_message_and_exit_2(argv: list[str], says: str) -> None:
    done = subprocess.run([COMMAND, *argv], capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert says in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_a_file_that_is_not_text_is_a_problem_not_a_traceback(tmp_path: Path) -> None:
    binary = tmp_path / "slo.yaml"
    binary.write_bytes(b"\x00\xff\xfe")
    done = subprocess.run(
        [COMMAND, "validate", str(binary)], capture_output=True, text=True, check=False
    )
    assert (done.returncode, done.stderr) == (1, "")
    assert done.stdout.startswith(f"{binary}: file: cannot be read as UTF-8 text"), done.stdout


def test_check_with_prometheus_down_says_so_in_one_line() -> None:
    done = subprocess.run(
        [COMMAND, "check", "--prometheus", "http://127.0.0.1:9", str(corpus.MANIFESTS)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith("sloalert check: Prometheus at http://127.0.0.1:9"), done.stderr
    assert len(done.stderr.splitlines()) == 1
