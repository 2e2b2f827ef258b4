"""The build context: an ignore file applied as BuildKit applies it, and its content digest."""

from __future__ import annotations

from pathlib import Path

from fdc_podrunner.context import ContextFilter, context_files, digest

IGNORE = """\
# only what the Dockerfile copies
*
!pyproject.toml
!libs
!operator/src
**/tests
**/__pycache__
"""


def _tree(root: Path, files: list[str]) -> None:
    for name in files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(name, encoding="utf-8")


def test_the_last_matching_pattern_decides_and_parents_count() -> None:
    context = ContextFilter(IGNORE)
    assert context.sends("pyproject.toml")
    assert context.sends("libs/a/b.py")
    assert not context.sends("libs/a/tests/test_b.py")
    assert not context.sends("operator/README.md")
    assert context.sends("operator/src/x.py")
    assert not context.sends("operator/src/__pycache__/x.pyc")


def test_only_folders_a_pattern_can_let_back_in_are_walked() -> None:
    context = ContextFilter(IGNORE)
    assert context.may_send_below("operator")
    assert not context.may_send_below(".tools")
    assert ContextFilter("*\n!**/keep\n").may_send_below(".tools")


def test_context_files_and_a_digest_that_follows_content(tmp_path: Path) -> None:
    _tree(tmp_path, ["pyproject.toml", "libs/x.py", ".tools/big", "operator/src/y.py", "README.md"])
    files = context_files(tmp_path, ContextFilter(IGNORE))
    assert files == ["libs/x.py", "operator/src/y.py", "pyproject.toml"]
    before = digest(tmp_path, files, "Dockerfile text")
    (tmp_path / "README.md").write_text("not in the context", encoding="utf-8")
    assert digest(tmp_path, files, "Dockerfile text") == before
    (tmp_path / "libs" / "x.py").write_text("changed", encoding="utf-8")
    assert digest(tmp_path, files, "Dockerfile text") != before
    assert digest(tmp_path, files, "another Dockerfile") != digest(
        tmp_path, files, "Dockerfile text"
    )
