"""Holds the test layout to its word: a test under a `unit/` folder starts no process.

Tests are laid out by what they need (tests/README.md): `unit/` (no process, no tool, no server),
`integration/` (real tools and servers on loopback) and `cluster/` (the API server). A unit test
that starts a program fails here, naming it, instead of quietly making `make test-fast` slow or
dependent on `make setup`. A fresh interpreter of our own (`python -c ...`, to check what a module
imports in isolation) is not a tool and is allowed.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest


class StartsAProcess(AssertionError):
    pass


@pytest.fixture(autouse=True)
def _unit_tests_start_no_process(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    if "unit" not in request.path.parts:
        yield
        return
    original = subprocess.Popen.__init__

    def refuse(self: subprocess.Popen[Any], args: Any, *rest: Any, **kwargs: Any) -> None:
        argv = [str(a) for a in args] if isinstance(args, list | tuple) else [str(args)]
        if argv[:1] == [sys.executable] and argv[1:2] == ["-c"]:
            original(self, args, *rest, **kwargs)
            return
        raise StartsAProcess(
            f"{request.node.nodeid} starts {argv[0]!r}: a unit test starts no process; "
            "move it to the component's integration/ folder"
        )

    monkeypatch.setattr(subprocess.Popen, "__init__", refuse)
    yield
