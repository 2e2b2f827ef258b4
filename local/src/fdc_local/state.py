"""Where a running `make local` listens, in a state file of its work folder, for `make load`.

`make local` writes the file once every process is ready and removes it when it stops; a file
whose process is gone (a killed `make local`) counts as no stack.
"""

from __future__ import annotations

from pathlib import Path

import psutil
from pydantic import BaseModel, ValidationError

STATE_FILE = "stack.json"


class LocalState(BaseModel):
    """The supervisor's pid and the base URL of each part a person or `make load` talks to."""

    pid: int
    # The supervisor's start time (psutil's create_time): a reused pid is not the same stack.
    started: float
    fastapi: str
    django: str
    prometheus: str
    alertmanager: str
    relay: str


class StateError(RuntimeError):
    """The state file exists but cannot be read: names the file and what is wrong."""


def state_path(workdir: Path) -> Path:
    return workdir / STATE_FILE


def write_state(workdir: Path, state: LocalState) -> Path:
    """Write the file whole, then rename it into place: a reader never sees half of it."""
    path = state_path(workdir)
    partial = path.with_suffix(".partial")
    partial.write_text(state.model_dump_json(indent=2), encoding="utf-8")
    partial.replace(path)
    return path


def read_state(workdir: Path) -> LocalState | None:
    """The running stack's state; None when there is no file or its supervisor is gone."""
    path = state_path(workdir)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        state = LocalState.model_validate_json(text)
    except ValidationError as exc:
        raise StateError(f"{path} is not a make local state file: {exc}") from None
    return state if _alive(state) else None


def _alive(state: LocalState) -> bool:
    try:
        return psutil.Process(state.pid).create_time() == state.started
    except psutil.Error:
        return False


def own_start_time() -> float:
    """This process' start time, as `LocalState.started` records it."""
    return psutil.Process().create_time()


def remove_state(workdir: Path) -> None:
    state_path(workdir).unlink(missing_ok=True)
