"""Pure: alert text made inert for Discord, and links accepted only when they are plain URLs.

Labels and annotations are not ours: anyone who can write an alert rule (or an SLOAlert) writes
them. Posted raw, Discord renders them as markdown, so a `runbook_url` of
`https://runbooks.ok) [Approve rollback](https://evil.example/x` would break out of its link and
plant another. So every piece of alert text is escaped: a backslash before each character
Discord's markdown gives a meaning (Discord shows an escaped character as itself), and a link is
made a link only when the URL is a plain http(s) URL, else it is shown as escaped text.

A bare URL in the text is left as typed (as discord.py's escape_markdown does): Discord makes it
a link by itself, and a backslash inside it would break that link (a browser reads `\\` in an
http URL as `/`). Only a URL made of characters that can neither end Discord's link early nor
open markdown is left alone, so nothing unescaped is ever read as markdown.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# A bare http(s) URL, as far as it is left unescaped. Discord links `https?://[^\s<]+` with at
# least two characters after the `//`, ending in none of `<.,:;"')]` (the longest such run), so
# its link reaches at least as far as this one, which holds no bracket, parenthesis, `<`, `*`,
# `|`, backtick or backslash and ends in none of Discord's excluded characters: whatever is left
# unescaped is inside Discord's link (tests/unit/test_relay_markdown.py reads text as it does).
_BARE_URL = r"https?://[A-Za-z0-9\-._~:/?#@!$&'+,;=%]+[A-Za-z0-9\-_~/#=&%+@$]"
# Discord's <...> forms (mentions <@id>, channels <#id>, emoji <:name:id>, commands </name:id>,
# timestamps <t:...>, links <https://...>) start with "<" and a symbol, or a word and ":".
# That symbol or ":" is escaped, not the "<": a backslash before "<" would not hold after a bare
# URL, as Discord's link takes it in (a link ends at "<" or a space only), leaving the "<" live.
_ANGLE = r"<(?:([A-Za-z0-9]+):|([!-/:-@\[-`{-~]))"  # a word, or ASCII punctuation
# Anywhere in a line: emphasis, code, spoilers, masked links ([...](...)) and the <...> forms.
# Markdown characters match as runs, escaped by one translation each: fewer calls, for text
# made of them (a small body, all "*", is escaped on the event loop).
_INLINE = re.compile(rf"({_BARE_URL})|{_ANGLE}|([\\`*_~|\[\]]+)")
_BACKSLASHED = str.maketrans({char: f"\\{char}" for char in "\\`*_~|[]"})
# At a line's start: headings, subtext (-#), quotes and lists.
_LINE_START = re.compile(r"^(\s*)([#>+\-]+(?=\s)|\d+(?=\.\s))", re.MULTILINE)
# What a link's URL may hold: printable ASCII (an IDN host as its xn-- form), without the
# characters that would end the link's (...) or open markdown.
_URL = re.compile(r"[!-~]+")
_NOT_IN_URL = re.compile(r"[()\[\]<>`\\\"']")


def escape(text: str) -> str:
    """`text` as Discord shows it literally: every markdown character escaped, bare URLs kept."""
    if not text:  # most optional labels: no need to scan
        return text
    return _LINE_START.sub(_escape_line_start, _INLINE.sub(_escape_inline, text))


def _escape_inline(match: re.Match[str]) -> str:
    url, word, symbol, markdown = match.groups()
    if url:
        return url
    if word:
        return f"<{word}\\:"
    if symbol:
        return f"<\\{symbol}"
    return str(markdown).translate(_BACKSLASHED)


def _escape_line_start(match: re.Match[str]) -> str:
    indent, marker = match.groups()
    # "1." is escaped as "1\." (a backslash before a digit escapes nothing).
    return f"{indent}{marker}\\" if marker[0].isdigit() else f"{indent}\\{marker}"


def plain_url(url: str) -> bool:
    """Whether `url` is a plain http(s) URL with a host: safe inside `[name](url)`. No user
    part either: `https://runbooks.example@evil.example/` goes to evil.example."""
    if not _URL.fullmatch(url) or _NOT_IN_URL.search(url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        return False
    return parts.scheme in {"http", "https"} and bool(parts.hostname) and "@" not in parts.netloc


def link(name: str, url: str) -> str:
    """`[name](url)` for a plain URL; else the name and the URL as escaped text."""
    if plain_url(url):
        return f"[{name}]({url})"
    return f"{name}: {escape(url)}"


def without_dangling_escape(text: str) -> str:
    """`text` without a last backslash left alone by a cut (it would escape what follows)."""
    trailing = len(text) - len(text.rstrip("\\"))
    return text[:-1] if trailing % 2 else text
