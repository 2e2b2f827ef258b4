"""How `sloalert` ends when things go wrong: exit codes, and never a traceback for an expected
error. The console script itself, in a pipe, is run in
integration/test_sloalert_cli_console_script.py."""

from __future__ import annotations

import io
import signal

import pytest
from sloalert.cli import main
from testkit import sloalert_testdata as corpus

NOWHERE = "http://127.0.0.1:9"  # never asked in these tests


class ClosedPipe(io.StringIO):
    """stdout whose reader has gone (`| head` after its lines)."""

    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def test_check_of_invalid_files_lists_the_problems_and_never_says_ok() -> None:
    out, err = io.StringIO(), io.StringIO()
    code = main(
        ["check", "--prometheus", NOWHERE, str(corpus.TESTDATA / "invalid")], out=out, err=err
    )
    # 1, not 2: with nothing valid to check, the unreachable Prometheus was not even asked.
    assert (code, err.getvalue()) == (1, "")
    lines = out.getvalue().splitlines()
    assert len(lines) >= len(corpus.invalid())
    assert not [line for line in lines if line.startswith("ok")], lines


@pytest.mark.parametrize(
    "argv",
    [
        ["render", str(corpus.MANIFESTS)],
        ["validate", str(corpus.MANIFESTS)],
        ["convert", str(corpus.TESTDATA / "convert" / "sloth-getting-started.yml")],
    ],
    ids=lambda argv: argv[0],
)
def test_a_closed_pipe_ends_it_with_sigpipes_exit_code(argv: list[str]) -> None:
    assert main(argv, out=ClosedPipe(), err=io.StringIO()) == 128 + signal.SIGPIPE
