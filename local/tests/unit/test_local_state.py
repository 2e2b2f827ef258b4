"""The state file `make local` writes and `make load` reads, and make load's choice of URLs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fdc_local import load
from fdc_local.state import (
    LocalState,
    StateError,
    own_start_time,
    read_state,
    remove_state,
    state_path,
    write_state,
)
from fdc_local.workdir import fresh_run_dir


def state(**changes: object) -> LocalState:
    fields: dict[str, object] = {"pid": os.getpid(), "started": own_start_time()}
    fields |= {
        part: f"http://127.0.0.1:{port}"
        for part, port in (
            ("fastapi", 18000),
            ("django", 18900),
            ("prometheus", 19090),
            ("alertmanager", 19093),
            ("relay", 18800),
        )
    }
    return LocalState.model_validate(fields | changes)


def test_a_written_state_is_read_back_while_its_process_lives(tmp_path: Path) -> None:
    written = state()
    write_state(tmp_path, written)
    assert read_state(tmp_path) == written
    remove_state(tmp_path)
    assert read_state(tmp_path) is None


def test_a_state_whose_process_is_gone_is_no_stack(tmp_path: Path) -> None:
    write_state(tmp_path, state(started=own_start_time() - 1))  # same pid, another process
    assert read_state(tmp_path) is None


def test_a_damaged_state_file_is_named(tmp_path: Path) -> None:
    state_path(tmp_path).write_text("{", encoding="utf-8")
    with pytest.raises(StateError, match=str(state_path(tmp_path))):
        read_state(tmp_path)


def args(tmp_path: Path, *extra: str) -> object:
    return load.parser().parse_args(["--workdir", str(tmp_path), *extra])


def test_load_refuses_without_a_stack_or_urls(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert load.run(args(tmp_path)) == 2
    assert capsys.readouterr().err.strip() == load.NO_STACK
    with pytest.raises(LookupError):
        load.targets(args(tmp_path, "--fastapi-url", "http://127.0.0.1:1"))


def test_load_follows_the_running_stack_and_takes_given_urls_first(tmp_path: Path) -> None:
    write_state(tmp_path, state())
    found = load.targets(args(tmp_path))
    assert (found.fastapi, found.django, found.prometheus) == (
        "http://127.0.0.1:18000",
        "http://127.0.0.1:18900",
        "http://127.0.0.1:19090",
    )
    given = load.targets(args(tmp_path, "--django-url", "http://127.0.0.1:7"))
    assert (given.fastapi, given.django) == ("http://127.0.0.1:18000", "http://127.0.0.1:7")


def test_a_new_run_keeps_the_previous_one(tmp_path: Path) -> None:
    first = fresh_run_dir(tmp_path)
    (first / "relay.log").write_text("[FIRING] ...", encoding="utf-8")
    second = fresh_run_dir(tmp_path)
    assert second == first and list(second.iterdir()) == []
    assert (tmp_path / "previous" / "relay.log").read_text(encoding="utf-8") == "[FIRING] ..."


def test_what_to_watch_explains_the_ticket_after_the_page() -> None:
    text = load.what_to_watch(load.Targets("http://f", "http://d", "http://p", "http://a"))
    assert "inhibited" in text
    assert "FIRE after the page's RESOLVED" in text
    assert "http://p/alerts" in text and "http://a/#/alerts" in text
