"""Every command in every README runs as written after the README's own set-up steps: each tool a
fenced shell block names is installed by `make setup` (scripts/tools.txt into .tools/bin, which
`eval "$(make env)"` puts on PATH; uv and the workspace's console scripts, run with `uv run`) or is
a prerequisite the root README lists, or is part of every POSIX system."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

from fdc_make import prerequisites
from testkit.tools import REPO_ROOT, tool_specs

SKIP = {".git", ".tools", ".venv", "node_modules", ".fdc-local"}
FENCE = re.compile(r"^```(bash|sh|shell|console)\n(.*?)^```", re.MULTILINE | re.DOTALL)
# The root README's prerequisites (quick start): the kind path's and everything else's.
PREREQUISITES = {
    *prerequisites.BY_NAME,  # kind, kubectl, helm, helm3
    "docker", "python3", "make", "git", "npm", "node", "apt-get", "brew", "xcode-select",
}  # fmt: skip
# Shell syntax and utilities every POSIX system (Linux, macOS) has.
POSIX = {
    "cd", "export", "eval", "echo", "printf", "source", ".", "set", "unset", "for", "do", "done",
    "if", "then", "else", "fi", "while", "test", "[", "true", "false", "exit", "read", "wait",
    "kill", "cat", "head", "tail", "grep", "sed", "awk", "sort", "uniq", "wc", "cut", "tr", "ls",
    "mkdir", "rm", "cp", "mv", "ln", "touch", "chmod", "env", "base64", "sleep", "tee", "xargs",
    "find", "diff", "date", "time", "curl", "tar", "gzip", "ps", "which", "sh", "bash",
}  # fmt: skip
WRAPPERS = {"sudo", "time", "exec", "env", "nohup"}


def readmes() -> list[Path]:
    found = []
    for directory, subdirs, files in os.walk(REPO_ROOT):
        # charts/<chart>/charts/ holds dependencies helm unpacked there: not ours
        in_chart = Path(directory).parent.name == "charts"
        subdirs[:] = [
            d
            for d in subdirs
            if d not in SKIP and not d.startswith("tmpcharts") and not (in_chart and d == "charts")
        ]
        if "README.md" in files:
            found.append(Path(directory) / "README.md")
    return sorted(found)


def _logical_lines(block: str) -> list[str]:
    """Continuation lines joined, heredoc bodies dropped; in a transcript (lines starting `$ `),
    only those lines."""
    lines, heredoc = [], None
    joined = re.sub(r"\\\n", " ", block).splitlines()
    if any(line.startswith("$ ") for line in joined):
        joined = [line[2:] for line in joined if line.startswith("$ ")]
    for line in joined:
        if heredoc is not None:
            if line.strip() == heredoc:
                heredoc = None
            continue
        match = re.search(r"<<-?\s*'?\"?(\w+)", line)
        if match:
            heredoc = match.group(1)
        lines.append(line)
    return lines


def _substitutions(line: str) -> tuple[str, list[str]]:
    """`$(...)` taken out of the line (as a word `SUBST`) and returned as lines of their own."""
    inner: list[str] = []
    while (start := line.find("$(")) != -1:
        depth, end = 0, start + 1
        for end in range(start + 1, len(line)):
            depth += {"(": 1, ")": -1}.get(line[end], 0)
            if depth == 0:
                break
        inner.append(line[start + 2 : end])
        line = line[:start] + "SUBST" + line[end + 1 :]
    return line, inner


def commands_named(block: str) -> list[str]:
    """The program each simple command of the block starts (after VAR=value and wrappers);
    `uv run X` names X as well."""
    named = []
    todo = _logical_lines(block)
    while todo:
        line, inner = _substitutions(todo.pop(0))
        todo[:0] = inner
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        lexer.commenters = "#"
        try:
            words = [*lexer, ";"]
        except ValueError:
            words = [*line.split("#")[0].split(), ";"]
        command: list[str] = []
        for word in words:
            if word in {"||", "&&", "|", ";", "&", "(", ")", ";;"}:
                named += _program(command)
                command = []
            elif not (command and command[-1] in {">", "<", ">>", "<<", "2>"}):
                command.append(word)
            else:
                command.pop()  # a redirection's target is not an argument
    return named


def _program(command: list[str]) -> list[str]:
    words = [w for w in command if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", w)]
    while words and words[0] in WRAPPERS:
        words = words[1:]
    if not words:
        return []
    if words[:2] == ["uv", "run"]:
        rest = [w for w in words[2:] if not w.startswith("-")]
        return ["uv", *(["uv-run:" + rest[0]] if rest else [])]
    return [words[0]]


def installed_by_make_setup() -> set[str]:
    venv_bin = REPO_ROOT / ".venv" / "bin"
    scripts = {f"uv-run:{path.name}" for path in venv_bin.iterdir()} if venv_bin.is_dir() else set()
    return {*tool_specs(), "uv", "test-apiserver", *scripts}


def test_the_command_extraction_finds_every_program() -> None:
    block = (
        "export A=1\n"
        "FOO=bar uv run sloalert render x | promtool check rules /dev/stdin  # a comment\n"
        "kubectl get x -o jsonpath='{.a}' | base64 -d; echo\n"
        "cat > f <<'YAML'\nnot: a command\nYAML\n"
        'helm upgrade x \\\n  --set y="$(cat z)"\n'
    )
    assert commands_named(block) == [
        "export", "uv", "uv-run:sloalert", "promtool", "kubectl", "base64", "echo", "cat",
        "helm", "cat",
    ]  # fmt: skip


def test_every_tool_a_readme_names_is_installed_or_a_prerequisite() -> None:
    allowed = installed_by_make_setup() | PREREQUISITES | POSIX
    unknown = []
    for readme in readmes():
        for match in FENCE.finditer(readme.read_text(encoding="utf-8")):
            for program in commands_named(match.group(2)):
                if program not in allowed and not program.startswith(("./", "/", "scripts/")):
                    unknown.append(f"{readme.relative_to(REPO_ROOT)}: {program}")
    assert not unknown, "named in a README, but neither installed nor a prerequisite:\n" + (
        "\n".join(sorted(set(unknown)))
    )


def test_the_root_readme_says_how_to_put_the_tools_on_path() -> None:
    """The documented line, run as documented (from the clone, in bash): .tools/bin comes first."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    line = 'eval "$(make env)"'
    assert line in readme
    result = subprocess.run(
        ["bash", "-c", f'{line} && printf %s "$PATH"'],
        cwd=REPO_ROOT,
        env={"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/")},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.split(os.pathsep)[0] == str(REPO_ROOT / ".tools" / "bin"), result.stdout
    assert result.stdout.endswith(os.environ["PATH"]), "the user's PATH follows, unchanged"


def test_every_prerequisite_the_check_accepts_is_one_the_quick_start_lists() -> None:
    """PREREQUISITES above may only hold what the root README's quick start tells a user to have:
    a tool the READMEs use that nothing installs and no prerequisite names fails the test above."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    quick_start = readme.split("\n## Quick start\n", 1)[1].split("\n## ", 1)[0]
    unlisted = sorted(
        name
        for name in PREREQUISITES - installed_by_make_setup()
        if not re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", quick_start, re.IGNORECASE)
    )
    assert not unlisted, (
        f"accepted as prerequisites, but not in the README's quick start: {unlisted}"
    )
