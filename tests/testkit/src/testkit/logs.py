"""Read a process's output as the JSON lines every fastdining process writes (fdc_logging).

`json_lines` fails, naming the line, when any line is not one JSON object of `SHAPE`: every
process test that reads its server's log holds that server to the shared shape for free.
"""

from __future__ import annotations

import json
from typing import Any

from fdc_logging import SHAPE


def json_lines(text: str) -> list[dict[str, Any]]:
    # Only "\n" ends a line: JSON text may hold other line breaks (U+0085, U+2028) as they are.
    entries = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            raise AssertionError(f"line {number} is not JSON: {line[:200]!r}") from None
        if not isinstance(entry, dict) or tuple(entry) != SHAPE:
            raise AssertionError(f"line {number} is not shaped {SHAPE}: {line[:200]!r}")
        entries.append(entry)
    return entries


def with_field(entries: list[dict[str, Any]], name: str) -> list[Any]:
    """The values of field `name`, from the entries that carry it."""
    return [entry["fields"][name] for entry in entries if name in entry["fields"]]
