"""A Dockerfile's build context: the files `<Dockerfile>.dockerignore` lets through, and a digest.

The matching is BuildKit's (moby's patternmatcher): patterns in order, the last one matching the
path or any of its parent folders decides, `!` lets back in. docker-py's `Pattern` matches one
pattern (`*`, `**`, `?`, classes). tests/kind/test_images_pattern.py checks the ignore files with
the same `ContextFilter`.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
from pathlib import Path

from docker.utils.build import Pattern


class ContextFilter:
    def __init__(self, ignore_text: str) -> None:
        lines = [line.strip() for line in ignore_text.splitlines()]
        self.patterns = [Pattern(line) for line in lines if line and not line.startswith("#")]

    @classmethod
    def from_file(cls, ignore_file: Path) -> ContextFilter:
        return cls(ignore_file.read_text(encoding="utf-8"))

    def sends(self, path: str) -> bool:
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        excluded = False
        for pattern in self.patterns:
            if any(pattern.match(prefix) for prefix in prefixes):
                excluded = not pattern.exclusion
        return not excluded

    def may_send_below(self, directory: str) -> bool:
        """Whether anything under `directory` can be sent: it is sent itself, or a `!` pattern
        could let a path below it back in (so an excluded .tools/ is never walked)."""
        if self.sends(directory):
            return True
        parts = directory.split("/")
        for pattern in self.patterns:
            if not pattern.exclusion:
                continue
            components = pattern.dirs
            if any(c == "**" for c in components[: len(parts)]):
                return True
            if len(components) > len(parts) and all(
                fnmatch.fnmatchcase(part, component)
                for part, component in zip(parts, components, strict=False)
            ):
                return True
        return False


def ignore_file_of(dockerfile: Path) -> Path:
    """BuildKit reads `<Dockerfile>.dockerignore` beside the Dockerfile."""
    return dockerfile.with_name(dockerfile.name + ".dockerignore")


def context_files(root: Path, context: ContextFilter) -> list[str]:
    """Every file under `root` (relative, '/'-separated, sorted) the filter sends."""
    found = []
    for directory, subdirs, names in os.walk(root):
        relative = Path(directory).relative_to(root).as_posix()
        prefix = "" if relative == "." else relative + "/"
        subdirs[:] = sorted(d for d in subdirs if context.may_send_below(prefix + d))
        found += [prefix + name for name in names if context.sends(prefix + name)]
    return sorted(found)


def digest(root: Path, files: list[str], *extra: str) -> str:
    """sha256 over the files' paths, modes and contents (and `extra` strings): the cache key."""
    hasher = hashlib.sha256()
    for text in extra:
        hasher.update(text.encode() + b"\0")
    for name in files:
        path = root / name
        hasher.update(name.encode() + b"\0")
        hasher.update(str(path.stat().st_mode & 0o111).encode() + b"\0")
        hasher.update(hashlib.sha256(path.read_bytes()).digest())
    return hasher.hexdigest()
