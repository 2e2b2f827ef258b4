"""`make local`'s work folder: a git-ignored folder of the repository by default (`WORKDIR=`
moves it). Each run works in `run/`; the run before it is kept in `previous/`, so the logs and
the relay's messages of a stopped stack survive it and the next start."""

from __future__ import annotations

import shutil
from pathlib import Path

DEFAULT_WORKDIR = Path(".fdc-local")
RUN = "run"
PREVIOUS = "previous"


def fresh_run_dir(workdir: Path) -> Path:
    """`workdir/run`, empty; the last run's folder moved to `workdir/previous` first."""
    run, previous = workdir / RUN, workdir / PREVIOUS
    if run.exists():
        shutil.rmtree(previous, ignore_errors=True)
        run.replace(previous)
    run.mkdir(parents=True)
    return run
