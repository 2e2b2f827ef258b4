"""Read SLOAlert resources from files, directories and stdin, keeping where each came from."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import yaml

from sloalert import conventions
from sloalert.errors import Problem

STDIN = "-"
SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True)
class Document:
    origin: str  # file path, or "-" for stdin
    index: int  # position among the file's YAML documents, from 1
    body: Any

    @property
    def name(self) -> str:
        """namespace/name (or name) when the document says, else its position in the file."""
        metadata = self.body.get("metadata") if isinstance(self.body, dict) else None
        name = metadata.get("name") if isinstance(metadata, dict) else None
        if not isinstance(name, str):
            return f"document {self.index}"
        namespace = metadata.get("namespace")
        return f"{namespace}/{name}" if isinstance(namespace, str) else name


@dataclass(frozen=True)
class Unreadable:
    origin: str
    problem: Problem


def read(
    paths: list[str], stdin: TextIO = sys.stdin, keep: Callable[[Any], bool] | None = None
) -> Iterator[Document | Unreadable]:
    """Every document under `paths` that is an SLOAlert or claims our API group (or that `keep`
    accepts: `sloalert convert` keeps Sloth's and OpenSLO's).

    Documents of other API groups are skipped, so a directory of mixed manifests works; a
    document of our group with a wrong kind or version is kept, so a typo is refused, not lost.
    """
    keep = keep or _ours
    for path in paths:
        if path == STDIN:
            yield from _parse(STDIN, stdin.read(), keep)
            continue
        target = Path(path)
        if target.is_dir():
            files = sorted(p for p in target.rglob("*") if p.is_file() and p.suffix in SUFFIXES)
        elif target.is_file():
            files = [target]
        else:
            yield Unreadable(path, Problem("path", "no such file or directory"))
            continue
        for file in files:
            try:
                text = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                yield Unreadable(str(file), Problem("file", f"cannot be read as UTF-8 text: {exc}"))
                continue
            yield from _parse(str(file), text, keep)


def _parse(origin: str, text: str, keep: Callable[[Any], bool]) -> Iterator[Document | Unreadable]:
    try:
        bodies = list(yaml.safe_load_all(text))
    except yaml.YAMLError as exc:
        yield Unreadable(origin, Problem("yaml", str(exc).replace("\n", " ")))
        return
    for index, body in enumerate(bodies, start=1):
        if body is None:
            continue
        if keep(body):
            yield Document(origin, index, body)


def _ours(body: Any) -> bool:
    if not isinstance(body, dict):
        return True  # not a resource at all: let validation say so
    api_version = body.get("apiVersion")
    if not isinstance(api_version, str):
        return body.get("kind") == conventions.KIND
    return api_version.split("/")[0] == conventions.GROUP or body.get("kind") == conventions.KIND
