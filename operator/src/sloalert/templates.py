"""Prometheus alert templates (Go text/template): are their actions balanced?

Prometheus expands every label and annotation value of an alert as a template, and one that
does not parse makes the whole rule file fail to load. Only the delimiters are checked here,
the way Go's lexer finds them (`}}` inside a quoted string or a comment closes nothing); what is
inside an action (functions, pipelines) is left to Prometheus.
"""

from __future__ import annotations

from typing import Final

OPEN: Final = "{{"
CLOSE: Final = "}}"
COMMENT_OPEN: Final = "/*"
COMMENT_CLOSE: Final = "*/"
# Go's quotes inside an action: interpreted string, character constant (both on one line, with
# backslash escapes), raw string (any lines, no escapes).
_QUOTES: Final = {'"': "quoted string", "'": "character constant", "`": "raw string"}


class _Unbalanced(ValueError):
    """Why a template does not parse, with the character where it goes wrong."""


def problem(text: str) -> str | None:
    """Why `text` is not a well-formed template, or None if its actions are balanced."""
    try:
        _check(text)
    except _Unbalanced as exc:
        return str(exc)
    return None


def _check(text: str) -> None:
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
            return
        at = _action_end(text, opened)


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
