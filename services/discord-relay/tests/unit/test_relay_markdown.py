"""Alert text made inert for Discord (issue 24 item 8), and bare URLs in it still usable.

`discord_reading` is a second, independent reading of escaped text as Discord reads it: an
escape (a backslash before any ASCII character but a letter, digit or space) shows the
character; a bare URL becomes a link as far as Discord's own autolink rule reaches
(`https?://[^\\s<]+`, ending in none of `<.,:;"')]`), whatever it holds; a `<` opens one of
Discord's forms (`<@id>`, `<#id>`, `<:name:id>`, `</name:id>`, `<t:...>`, `<https://...>`)
only when a symbol or a word and `:` follow it. Any markdown it meets outside these would be
rendered as markdown.
"""

from __future__ import annotations

import re

import pytest
from discord_relay.markdown import escape, link, plain_url
from hypothesis import given, settings
from hypothesis import strategies as st

# Not "]": it only closes what a live "[" opened (and a link may take in the backslash before
# it, as Discord's link never ends in "]").
MARKDOWN = set("\\`*_~|[")
DISCORD_ESCAPE = re.compile(r"\\[!-/:-@\[-`{-~]")
DISCORD_AUTOLINK = re.compile(r"https?://[^\s<]+[^<.,:;\"')\]\s]")
# No form starts with "<\\" (the symbol after "<" escaped).
DISCORD_ANGLE_FORM = re.compile(r"<(?:[A-Za-z0-9]+:|[!-/:-@\[\]^_`{-~])")


def discord_reading(text: str) -> tuple[list[str], list[int]]:
    """The links Discord makes of `text`, and the positions of markdown it would render."""
    links: list[str] = []
    live: list[int] = []
    position = 0
    while position < len(text):
        if DISCORD_ESCAPE.match(text, position):
            position += 2
            continue
        url = DISCORD_AUTOLINK.match(text, position)
        if url:
            links.append(url.group())
            position = url.end()
            continue
        if text[position] in MARKDOWN or DISCORD_ANGLE_FORM.match(text, position):
            live.append(position)
        position += 1
    return links, live


@pytest.mark.parametrize(
    "url",
    [
        "https://grafana.example/d/slo_overview?var-slo=fastapi_availability&orgId=1",
        "http://prometheus:9090/graph?g0.expr=sum%28rate%28x%5B5m%5D%29%29&g0.tab=1",
        "https://runbooks.example/~ops/fastapi_availability#first_steps",
    ],
)
def test_a_bare_url_in_alert_text_stays_a_working_link(url: str) -> None:
    """A backslash inside a URL would break Discord's link to it (a browser reads it as /)."""
    text = f"Budget burning: see {url}, then _act_ (**now**)."
    shown = escape(text)
    assert url in shown
    links, live = discord_reading(shown)
    assert links == [url]
    assert live == [], shown


@pytest.mark.parametrize(
    "text",
    [
        "https://runbooks.ok/a_b)[Approve](https://evil.example/x)",
        "https://x.example/**bold**_it_||spoiler||`code`",
        "https://x.example/a<@&123>",
        "https://x.example/a_b<#123><t:1:R></deploy:1><https://evil.example>",
        "<<@123> <\\@123> <:e:1> <a:e:1> <id:browse>",
        "xhttps://x.example/a_b_ https://y.example/c_d.",
        "\\https://x.example/a_b",
        "https://x.example/a_b\\_c_",
    ],
)
def test_a_url_cannot_carry_markdown_past_the_escaping(text: str) -> None:
    _, live = discord_reading(escape(text))
    assert live == [], escape(text)


_PIECES = st.sampled_from(
    [
        "https://",
        "http://",
        "x.example",
        "/",
        "a",
        "_",
        "*",
        "~",
        "|",
        "`",
        "\\",
        "[",
        "]",
        "(",
        ")",
        "<",
        ">",
        "@",
        ".",
        ",",
        "'",
        '"',
        " ",
        "\n",
        "#",
        "-",
        "%",
        "é",
    ]
)


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(st.lists(_PIECES, max_size=40).map("".join))
def test_no_markdown_survives_escaping_outside_a_link_discord_makes(text: str) -> None:
    shown = escape(text)
    _, live = discord_reading(shown)
    assert live == [], shown
    # Nothing is lost: dropping the escapes gives the text back.
    assert DISCORD_ESCAPE.sub(lambda escaped: escaped.group()[1], shown) == text


@pytest.mark.parametrize(
    "url",
    [
        "https://runbooks.example/fastapi_availability",
        "http://grafana.example:3000/d/abc?orgId=1&var-slo=a_b",
        "https://xn--bcher-kva.example/runbook",
    ],
)
def test_a_plain_url_becomes_a_masked_link(url: str) -> None:
    assert plain_url(url)
    assert link("Runbook", url) == f"[Runbook]({url})"


@pytest.mark.parametrize(
    "url",
    [
        "https://runbooks.example@evil.example/x",  # goes to evil.example
        "https://user:pass@runbooks.example/x",
        "https://bücher.example/runbook",  # an IDN host only in its xn-- form
        "https://runbooks.example/\u202egnp.exe",  # a right-to-left override
        "https://runbooks.example/a\x00b",
        "https://runbooks.example/a\tb",
        "ftp://runbooks.example/x",
        "JAVASCRIPT://x.example/%0aalert(1)",
        "https:///path-only",
        "",
    ],
)
def test_anything_else_is_shown_as_text(url: str) -> None:
    assert not plain_url(url)
    shown = link("Runbook", url)
    assert shown.startswith("Runbook: ")
    assert discord_reading(shown)[1] == []
