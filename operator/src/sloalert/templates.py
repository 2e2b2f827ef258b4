"""Prometheus alert templates (Go text/template): would Prometheus parse them, and are they safe?

Prometheus expands every label and annotation value of an alert as a template, and one that
does not parse makes the whole rule file fail to load. Checked here the way Go's parser sees
them: the delimiters (`}}` inside a quoted string or a comment closes nothing), the functions
an action calls (Go's builtins and Prometheus' own, nothing else: `{{ nosuchfunc }}` fails to
parse), and the control structures (`if`, `range`, `with`, `define`, `block` each closed by an
`end`, `else` only inside them), and the variables (declared before use). `problem` checks only
the delimiters, which every Go template dialect shares (Grafana's alert templates too);
`alert_problem` checks all of it, for Prometheus alert rules.

`query` is refused though Prometheus has it: it runs any PromQL with Prometheus' full view, so
an SLOAlert author could read every tenant's series into an alert's text.
"""

from __future__ import annotations

import re
from typing import Final

OPEN: Final = "{{"
CLOSE: Final = "}}"
COMMENT_OPEN: Final = "/*"
COMMENT_CLOSE: Final = "*/"
# Go's quotes inside an action: interpreted string, character constant (both on one line, with
# backslash escapes), raw string (any lines, no escapes).
_QUOTES: Final = {'"': "quoted string", "'": "character constant", "`": "raw string"}


# Go text/template's builtins and the functions Prometheus adds (template/template.go, checked
# against promtool 3.5: every name here parses, and nothing else does).
GO_FUNCTIONS: Final = frozenset(
    [
        "and",
        "call",
        "html",
        "index",
        "slice",
        "js",
        "len",
        "not",
        "or",
        "print",
        "printf",
        "println",
        "urlquery",
        "eq",
        "ge",
        "gt",
        "le",
        "lt",
        "ne",
    ]
)
PROMETHEUS_FUNCTIONS: Final = frozenset(
    [
        "query",
        "first",
        "label",
        "value",
        "strvalue",
        "args",
        "reReplaceAll",
        "safeHtml",
        "match",
        "title",
        "toUpper",
        "toLower",
        "graphLink",
        "tableLink",
        "sortByLabel",
        "humanize",
        "humanize1024",
        "humanizeDuration",
        "humanizePercentage",
        "humanizeTimestamp",
        "pathPrefix",
        "externalURL",
        "stripPort",
        "stripDomain",
        "toTime",
        "parseDuration",
    ]
)
# Functions that read Prometheus' data: refused in SLOAlerts (tenants must not read each other).
DATA_READING: Final = frozenset({"query"})
_OPENING: Final = frozenset({"if", "range", "with", "define", "block"})
_ELSE_IN: Final = frozenset({"if", "range", "with"})
PROMETHEUS_VARIABLES: Final = frozenset({"", "labels", "externalLabels", "value"})
_WORD: Final = re.compile(r"([.$]?)\b([A-Za-z_][A-Za-z0-9_]*)")
_VARIABLE: Final = re.compile(r"\$([A-Za-z0-9_]*)")
_DECLARATION: Final = re.compile(r"\$([A-Za-z0-9_]*)\s*(?:,\s*\$([A-Za-z0-9_]*)\s*)?:=")
_KEYWORDS: Final = frozenset(
    {"else", "end", "template", "break", "continue", "nil", "true", "false"}
)


class _Forbidden(ValueError):
    """A template Prometheus runs but an SLOAlert may not hold."""


class _Unbalanced(ValueError):
    """Why a template does not parse, with the character where it goes wrong."""


def problem(text: str) -> str | None:
    """Why `text`'s actions are not balanced (any Go template dialect: Grafana's too), or None."""
    try:
        _actions(text)
    except _Unbalanced as exc:
        return str(exc)
    return None


def alert_problem(text: str) -> str | None:
    """Why Prometheus would refuse `text` as an alert's label or annotation value, or why an
    SLOAlert may not use it (`query`), or None if it is fine."""
    try:
        _check(text)
    except _Forbidden as exc:
        return str(exc)
    except _Unbalanced as exc:
        return f"is not a valid Prometheus template: {exc}"
    return None


def _check(text: str) -> None:
    opened_blocks: list[str] = []
    variables = set(PROMETHEUS_VARIABLES)
    for start, action in _actions(text):
        code = _code(action)
        _check_variables(code, start, variables)
        _check_action(code, start, opened_blocks)
    if opened_blocks:
        raise _Unbalanced(f"the {{{{ {opened_blocks[-1]} }}}} is never closed by {{{{ end }}}}")


def _check_action(code: str, start: int, opened_blocks: list[str]) -> None:
    """One action's words: known functions only, control structures that pair up."""
    words = _words(code)
    if not words:
        return
    first = words[0]
    if first in _OPENING:
        opened_blocks.append(first)
    elif first == "end":
        if not opened_blocks:
            raise _Unbalanced(f"the {{{{ end }}}} at character {start} closes nothing")
        opened_blocks.pop()
    elif first == "else" and (not opened_blocks or opened_blocks[-1] not in _ELSE_IN):
        raise _Unbalanced(f"the {{{{ else }}}} at character {start} is outside if, range or with")
    for word in words:
        if word in _OPENING or word in _KEYWORDS:
            continue
        if word in DATA_READING:
            raise _Forbidden(
                f"may not call {word} (at character {start}): it reads Prometheus' data, "
                "any tenant's series, into the alert's text"
            )
        if word not in GO_FUNCTIONS and word not in PROMETHEUS_FUNCTIONS:
            raise _Unbalanced(
                f'function "{word}" not defined (at character {start}): Prometheus knows '
                "Go's template builtins and its own (humanize, printf, toUpper, ...)"
            )


def _code(action: str) -> str:
    """An action with its strings and comments blanked out, so only code is left to read."""
    kept = []
    at = 0
    while at < len(action):
        if action.startswith(COMMENT_OPEN, at):
            close = action.find(COMMENT_CLOSE, at + len(COMMENT_OPEN))
            end = len(action) if close == -1 else close + len(COMMENT_CLOSE)
        elif action[at] in _QUOTES:
            end = _quote_end(action, at)
        else:
            kept.append(action[at])
            at += 1
            continue
        kept.append(" ")
        at = end
    return "".join(kept)


def _words(code: str) -> list[str]:
    """The bare identifiers of an action's code: keywords and function names, not `.field`,
    `$var` or numbers (1, 0x1F, 1e3)."""
    return [match.group(2) for match in _WORD.finditer(code) if not match.group(1)]


def _check_variables(code: str, start: int, known: set[str]) -> None:
    """Go refuses a variable used before it is declared (`$x := ...`); Prometheus declares
    $labels, $externalLabels and $value (and Go the root, `$`)."""
    for declared in _DECLARATION.finditer(code):
        known.update(name for name in declared.groups() if name is not None)
    for used in _VARIABLE.finditer(code):
        if used.group(1) not in known:
            raise _Unbalanced(f'undefined variable "${used.group(1)}" (at character {start})')


def _actions(text: str) -> list[tuple[int, str]]:
    """Each action's start and its text between the delimiters (balanced, or _Unbalanced)."""
    found = []
    at = 0
    while True:
        opened, stray = text.find(OPEN, at), text.find(CLOSE, at)
        # Go reads a stray }} as text; it is almost always a mistyped {{, and a literal one
        # is still possible as {{ "}}" }}.
        if stray != -1 and (opened == -1 or stray < opened):
            raise _Unbalanced(
                f"the {CLOSE} at character {stray} closes no {OPEN} "
                f'(a literal {CLOSE} is written {OPEN} "{CLOSE}" {CLOSE})'
            )
        if opened == -1:
            return found
        at = _action_end(text, opened)
        found.append((opened, text[opened + len(OPEN) : at - len(CLOSE)]))


def _action_end(text: str, opened: int) -> int:
    """Where the text after the action that starts at `opened` begins."""
    at = opened + len(OPEN)
    while at < len(text):
        if text.startswith(CLOSE, at):
            return at + len(CLOSE)
        if text.startswith(OPEN, at):
            raise _Unbalanced(
                f"the {OPEN} at character {opened} is not closed by {CLOSE} before the "
                f"{OPEN} at character {at}"
            )
        if text.startswith(COMMENT_OPEN, at):
            end = text.find(COMMENT_CLOSE, at + len(COMMENT_OPEN))
            if end == -1:
                raise _Unbalanced(
                    f"the comment at character {at} is never closed by {COMMENT_CLOSE}"
                )
            at = end + len(COMMENT_CLOSE)
        elif text[at] in _QUOTES:
            at = _quote_end(text, at)
        else:
            at += 1
    raise _Unbalanced(f"the {OPEN} at character {opened} is never closed by {CLOSE}")


def _quote_end(text: str, start: int) -> int:
    """Where the text after the quoted string or character that starts at `start` begins."""
    quote = text[start]
    raw = quote == "`"
    at = start + 1
    while at < len(text) and (raw or text[at] != "\n"):
        if text[at] == quote:
            return at + 1
        at += 2 if text[at] == "\\" and not raw else 1
    raise _Unbalanced(f"the {_QUOTES[quote]} at character {start} is never closed by {quote}")
