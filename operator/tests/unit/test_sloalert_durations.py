"""Prometheus durations: parsed to the millisecond, formatted back the way rule names spell them."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sloalert import durations

CASES = {
    "5m": 300_000,
    "1h30m": 5_400_000,
    "30d": 2_592_000_000,
    "1w": 604_800_000,
    "1y": 31_536_000_000,
    "1500ms": 1_500,
    "0": 0,
}


@pytest.mark.parametrize(("text", "ms"), CASES.items())
def test_a_prometheus_duration_parses_to_milliseconds(text: str, ms: int) -> None:
    assert durations.parse_ms(text) == ms


@pytest.mark.parametrize("text", ["", "5", "5 m", "1m1h", "-5m", "1.5h", "5M", "30 days"])
def test_anything_else_is_refused_with_an_example_of_the_form(text: str) -> None:
    with pytest.raises(durations.DurationError, match="Prometheus duration"):
        durations.parse_ms(text)
    # The CRD and the models refuse the same (the empty string by their minimum length).
    assert not text or re.fullmatch(durations.PATTERN, text) is None


@pytest.mark.parametrize(
    ("ms", "text"),
    [(300_000, "5m"), (2_592_000_000, "30d"), (5_400_000, "1h30m"), (0, "0s"), (1_500, "1s500ms")],
)
def test_formatting_uses_days_at_most_so_rule_names_read_30d(ms: int, text: str) -> None:
    assert durations.format_ms(ms) == text


@given(st.integers(min_value=0, max_value=10 * 365 * 24 * 3600 * 1000))
def test_formatting_then_parsing_gives_the_same_duration(ms: int) -> None:
    assert durations.parse_ms(durations.format_ms(ms)) == ms


def test_a_negative_duration_cannot_be_formatted() -> None:
    with pytest.raises(durations.DurationError):
        durations.format_ms(-1)
