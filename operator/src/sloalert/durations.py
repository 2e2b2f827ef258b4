"""Prometheus durations (`5m`, `1h30m`, `30d`): parse to seconds and format back.

The pattern is Prometheus' own (model.ParseDuration), so what passes here passes promtool, and
the CRD uses the same pattern so the API server refuses the same strings.
"""

from __future__ import annotations

import re
from typing import Final

# Units largest first; a duration spells each at most once, in this order.
UNITS: Final = (
    ("y", 365 * 24 * 3600 * 1000),
    ("w", 7 * 24 * 3600 * 1000),
    ("d", 24 * 3600 * 1000),
    ("h", 3600 * 1000),
    ("m", 60 * 1000),
    ("s", 1000),
    ("ms", 1),
)
PATTERN: Final = r"^(0|([0-9]+y)?([0-9]+w)?([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?([0-9]+ms)?)$"
_REGEX: Final = re.compile(PATTERN)
_PART: Final = re.compile(r"([0-9]+)(ms|y|w|d|h|m|s)")
# Formatting never uses years or weeks: `30d` reads better in a rule name than `4w2d`.
_FORMAT_UNITS: Final = tuple(unit for unit in UNITS if unit[0] not in {"y", "w"})


class DurationError(ValueError):
    pass


def parse_ms(text: str) -> int:
    """`1h30m` -> 5400000. Raises DurationError with the reason."""
    if not text or not _REGEX.fullmatch(text):
        raise DurationError(
            f"{text!r} is not a Prometheus duration (like 30s, 5m, 1h30m, 30d: "
            "whole numbers with units y, w, d, h, m, s, ms, largest first)"
        )
    return sum(int(number) * dict(UNITS)[unit] for number, unit in _PART.findall(text))


def parse_seconds(text: str) -> float:
    return parse_ms(text) / 1000


def format_ms(ms: int) -> str:
    """5400000 -> `1h30m`; 0 -> `0s`."""
    if ms < 0:
        raise DurationError(f"a duration cannot be negative: {ms} ms")
    if ms == 0:
        return "0s"
    parts = []
    for unit, size in _FORMAT_UNITS:
        count, ms = divmod(ms, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)
