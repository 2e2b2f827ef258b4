"""Pure: one notification in, the Discord message bodies out, every one within Discord's limits.

One embed per alert, for the first `MAX_DETAILED_ALERTS` alerts of a notification. Messages hold
at most 10 embeds and 6000 embed characters, so a notification with many alerts becomes several
messages, each marked "part i/n". Text that does not fit is cut and ends with an ellipsis, never
dropped; alerts Alertmanager itself left out (`truncatedAlerts`) are reported in the first
message. A larger group (Alertmanager may send thousands of alerts at once) is not posted alert by
alert, which would keep Discord's rate limits busy for many minutes: the last message sums up the
rest ("and 19,900 more alert(s) not shown ..., see Alertmanager: <link>"). The work is linear in
the number of alerts: one pass to count them, then a bounded number of embeds.

Alert text is not ours: every label and annotation is escaped for Discord's markdown, and links
are links only for plain http(s) URLs (`markdown`). A resolved alert says when it started and how
long it lasted instead of its annotations, which were rendered at its last firing evaluation (a
"burning at 1000x" long since over).

Lengths are counted in UTF-16 code units, which is never less than the count of code points:
whichever Discord counts, a message measured this way fits.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import quote, urlencode

from discord_relay.markdown import escape, link, plain_url, without_dangling_escape
from discord_relay.payloads import (
    Alert,
    AlertmanagerNotification,
    GrafanaAlert,
    GrafanaNotification,
)

# Discord's limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits).
CONTENT_MAX = 2000
EMBEDS_PER_MESSAGE = 10
EMBED_TOTAL_MAX = 6000  # title + description + field names and values + footer + author name
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELDS_MAX = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
AUTHOR_NAME_MAX = 256
USERNAME_MAX = 80

# At most this many alerts are shown one by one (so at most this many messages); the rest are
# counted in a summary. Documented in the README.
MAX_DETAILED_ALERTS = 100

# Our own, tighter budgets: with at most five short-named fields of 1024, a 256 title and a
# 256 footer, an embed's fixed parts stay under 5700, so there is always room for a description.
_FOOTER_BUDGET = 256
_HEADLINE_BUDGET = 1500

ELLIPSIS = "…"

COLOUR_FIRING = 0xE74C3C
COLOUR_RESOLVED = 0x2ECC71
COLOUR_OTHER = 0x95A5A6

Source = Literal["alertmanager", "grafana"]
_SOURCE_NAMES: dict[Source, str] = {"alertmanager": "Alertmanager", "grafana": "Grafana"}

Message = dict[str, Any]
Embed = dict[str, Any]


def text_length(text: str) -> int:
    """Length in UTF-16 code units (ASCII, nearly all alert text, without encoding it)."""
    return len(text) if text.isascii() else len(text.encode("utf-16-le")) // 2


def encode_message(message: Message) -> bytes:
    """The message as posted: JSON in UTF-8, encoded once for both the post and its key."""
    return json.dumps(message, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


def clip(text: str, limit: int) -> str:
    """`text` if it fits in `limit`, else its start followed by an ellipsis, `limit` in total."""
    if text_length(text) <= limit:
        return text
    budget = limit - text_length(ELLIPSIS)
    kept: list[str] = []
    used = 0
    for char in text:
        width = 2 if ord(char) > 0xFFFF else 1
        if used + width > budget:
            break
        kept.append(char)
        used += width
    return without_dangling_escape("".join(kept)) + ELLIPSIS


def embed_size(embed: Embed) -> int:
    """The characters Discord counts towards the 6000 shared by a message's embeds."""
    size = text_length(embed.get("title", "")) + text_length(embed.get("description", ""))
    size += sum(
        text_length(field["name"]) + text_length(field["value"])
        for field in embed.get("fields", ())
    )
    size += text_length(embed.get("footer", {}).get("text", ""))
    size += text_length(embed.get("author", {}).get("name", ""))
    return size


def colour(status: str) -> int:
    return {"firing": COLOUR_FIRING, "resolved": COLOUR_RESOLVED}.get(status.lower(), COLOUR_OTHER)


def build_messages(
    notification: AlertmanagerNotification,
    source: Source,
    *,
    username: str,
    avatar_url: str | None = None,
) -> list[Message]:
    """The Discord message bodies for `notification`, in the order they should be posted."""
    shown = notification.alerts[:MAX_DETAILED_ALERTS]
    embeds = [alert_embed(alert, source, notification.receiver) for alert in shown]
    chunks = pack(embeds)
    headline = clip(_headline(notification), _HEADLINE_BUDGET)
    summary = _not_shown(notification, source)
    messages = []
    for index, chunk in enumerate(chunks):
        last = index == len(chunks) - 1
        message: Message = {
            "username": clip(username, USERNAME_MAX),
            "content": _content(
                notification, headline, index, len(chunks), summary if last else None
            ),
            # Alert text is not ours: it must never ping @everyone or anyone else.
            "allowed_mentions": {"parse": []},
        }
        if avatar_url:
            message["avatar_url"] = avatar_url
        if chunk:
            message["embeds"] = chunk
        messages.append(message)
    return messages


def pack(embeds: list[Embed]) -> list[list[Embed]]:
    """Group embeds in order into messages of at most 10 embeds and 6000 characters.

    Always at least one group, so a notification without alerts still says something.
    """
    groups: list[list[Embed]] = [[]]
    size = 0
    for embed in embeds:
        this = embed_size(embed)
        current = groups[-1]
        if current and (len(current) == EMBEDS_PER_MESSAGE or size + this > EMBED_TOTAL_MAX):
            groups.append([])
            size = 0
        groups[-1].append(embed)
        size += this
    return groups


def alert_embed(alert: Alert, source: Source, receiver: str) -> Embed:
    title = clip(f"[{alert.status.upper()}] {escape(alert.name)}", TITLE_MAX)
    fields = [
        {"name": name, "value": clip(value, FIELD_VALUE_MAX), "inline": inline}
        for name, value, inline in _field_candidates(alert)
        if value.strip()
    ]
    footer = clip(
        " · ".join(part for part in (_SOURCE_NAMES[source], receiver) if part), _FOOTER_BUDGET
    )
    embed: Embed = {"title": title, "color": colour(alert.status), "footer": {"text": footer}}
    description = _description(alert)
    if description:
        room = EMBED_TOTAL_MAX - embed_size({**embed, "fields": fields})
        embed["description"] = clip(description, min(DESCRIPTION_MAX, room))
    if fields:
        embed["fields"] = fields
    timestamp = _timestamp(alert)
    if timestamp:
        embed["timestamp"] = timestamp
    return embed


def _description(alert: Alert) -> str:
    """The summary and description annotations, escaped; for a resolved alert, when it started
    and how long it lasted instead (its annotations speak of its last firing evaluation)."""
    if alert.status.lower() == "resolved":
        return _resolved_text(alert)
    return "\n\n".join(
        escape(text)
        for text in (alert.annotations.get("summary"), alert.annotations.get("description"))
        if text and text.strip()
    )


def _resolved_text(alert: Alert) -> str:
    started, ended = _moment(alert.starts_at), _moment(alert.ends_at)
    if started is None:
        return "Resolved."
    text = f"Resolved. Started {started:%Y-%m-%d %H:%M:%S} UTC"
    if ended is not None and ended >= started:
        text += f", lasted {duration_text((ended - started).total_seconds())}"
    return text + "."


def duration_text(seconds: float) -> str:
    """`4 min 12 s`, `2 h 5 min`, `3 d 4 h`: the two largest units, whole numbers."""
    total = int(seconds)
    if total < 60:
        return f"{total} s"
    units = (("d", 86_400), ("h", 3_600), ("min", 60), ("s", 1))
    parts = []
    for name, size in units:
        if total >= size or parts:
            parts.append(f"{total // size} {name}")
            total %= size
        if len(parts) == 2:
            break
    return " ".join(parts)


def _field_candidates(alert: Alert) -> list[tuple[str, str, bool]]:
    labels = alert.labels
    service = (
        ("Service", labels["service"]) if labels.get("service") else ("Job", labels.get("job", ""))
    )
    return [
        ("Severity", escape(labels.get("severity", "")), True),
        (service[0], escape(service[1]), True),
        ("Instance", escape(labels.get("instance", "")), True),
        ("Values", escape(_values(alert)), False),
        ("Links", _links(alert), False),
    ]


def _values(alert: Alert) -> str:
    if not isinstance(alert, GrafanaAlert):
        return ""
    if alert.value_string.strip():
        return alert.value_string
    return ", ".join(
        f"{name}={value:g}" for name, value in (alert.values or {}).items() if value is not None
    )


def _links(alert: Alert) -> str:
    links = [("Source", alert.generator_url)]
    if isinstance(alert, GrafanaAlert):
        links += [
            ("Dashboard", alert.dashboard_url),
            ("Panel", alert.panel_url),
            ("Silence", alert.silence_url),
        ]
    links.append(("Runbook", alert.annotations.get("runbook_url", "")))
    return "\n".join(link(name, url) for name, url in links if url.strip())


def _timestamp(alert: Alert) -> str:
    """When the alert started, or ended once resolved; empty for Alertmanager's zero time."""
    moment = _moment(alert.ends_at if alert.status.lower() == "resolved" else alert.starts_at)
    if moment is None:
        return ""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _moment(text: str) -> datetime | None:
    """A sender's time in UTC; None for no time, Alertmanager's zero time or a naive one."""
    try:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None or moment.year < 1970:
            return None
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):  # not a time, or one past the year 9999 once in UTC
        return None


def _content(
    notification: AlertmanagerNotification,
    headline: str,
    index: int,
    total: int,
    summary: str | None,
) -> str:
    lines = [headline]
    if total > 1:
        lines[0] += f" (part {index + 1}/{total})"
    if index == 0 and notification.truncated_alerts:
        lines.append(
            f"⚠️ {notification.truncated_alerts} more alert(s) in this group were left out by "
            "the sender (max_alerts): see its UI for the full list."
        )
    if not notification.alerts:
        lines.append("This notification carries no alerts.")
    if summary:
        lines.append(summary)
    return clip("\n".join(lines), CONTENT_MAX)


def _not_shown(notification: AlertmanagerNotification, source: Source) -> str | None:
    """What the messages leave out, counted, and where to see all of it; None if nothing."""
    hidden = notification.alerts[MAX_DETAILED_ALERTS:]
    if not hidden:
        return None
    statuses = Counter(alert.status.lower() for alert in hidden)
    firing, resolved = statuses.pop("firing", 0), statuses.pop("resolved", 0)
    parts = [f"{firing:,} firing", f"{resolved:,} resolved"]
    if statuses:
        parts.append(f"{statuses.total():,} other")
    if notification.truncated_alerts:
        parts.append(f"{notification.truncated_alerts:,} left out by the sender (max_alerts)")
    total = len(hidden) + notification.truncated_alerts
    url = _group_url(notification, source)
    where = f": <{url}>" if plain_url(url) else " for the full list"
    return (
        f"📋 And {total:,} more alert(s) not shown ({', '.join(parts)}): the relay details the "
        f"first {MAX_DETAILED_ALERTS} of a notification. See {_SOURCE_NAMES[source]}{where}"
    )


def _group_url(notification: AlertmanagerNotification, source: Source) -> str:
    """The sender's page for this group (Alertmanager's alert list filtered to the receiver and
    the group's labels, as its own default templates link it), or "" without a usable URL."""
    base = notification.external_url.rstrip("/")
    if not base.startswith(("http://", "https://")):
        return ""
    if source == "grafana":
        return f"{base}/alerting/groups"
    query = {"receiver": notification.receiver} if notification.receiver else {}
    if notification.group_labels:
        matchers = ",".join(
            f'{name}="{_quoted(value)}"' for name, value in notification.group_labels.items()
        )
        query["filter"] = "{" + matchers + "}"
    return f"{base}/#/alerts" + (f"?{urlencode(query, quote_via=quote)}" if query else "")


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _headline(notification: AlertmanagerNotification) -> str:
    """Counts over the whole notification, computed once per notification: linear."""
    if isinstance(notification, GrafanaNotification) and notification.title.strip():
        return escape(notification.title)
    counts = f"[{notification.status.upper()}:{len(notification.alerts)}]"
    firing = resolved = 0
    for alert in notification.alerts:
        status = alert.status.lower()
        firing += status == "firing"
        resolved += status == "resolved"
    if firing and resolved:
        counts += f" ({firing} firing, {resolved} resolved)"
    group = " ".join(notification.group_labels.values()) or notification.receiver
    return f"**{counts}** {escape(group)}".rstrip()
