"""The SeriesFound watch without a server: its settings, one pass over many SLOAlerts, what
an error makes of it, when it warns, and its schedule. Prometheus is played by the unit
testkit's in-memory stand-in (SeriesInMemory); the status by a dictionary per SLOAlert.
test_operator_series_found.py runs the same on a real API server and a real Prometheus.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from sloalert import series_check
from sloalert.operator.metrics import ConditionStates
from sloalert.operator.series_watch import SeriesWatch
from sloalert.operator.settings import SettingsError, load_settings
from sloalert.operator.status import Condition, condition_status, with_conditions
from testkit.series_stand_in import SeriesInMemory

NOW = datetime(2026, 1, 2, tzinfo=UTC)
SERIES = [{"__name__": "http_requests_total", "job": "fastapi", "status": "2xx"}]


def sloalert(name: str, job: str = "fastapi") -> dict[str, Any]:
    return {
        "apiVersion": "slo.fastdining.dev/v1alpha1",
        "kind": "SLOAlert",
        "metadata": {"name": name, "namespace": "apps", "uid": f"uid-{name}"},
        "spec": {
            "service": "fastapi",
            "indicator": {"preset": {"name": "fastapi-availability", "job": job}},
            "objective": 99.9,
        },
    }


class Statuses:
    """The SLOAlerts' statuses, as the reconciler's write_condition would leave them."""

    def __init__(self) -> None:
        self.by_name: dict[str, Mapping[str, Any]] = {}
        self.warned: list[str] = []

    async def record(
        self, owner: Mapping[str, Any], condition: Condition, *, groups: int | None = None
    ) -> Mapping[str, Any]:
        name = owner["metadata"]["name"]
        before = self.by_name.get(name, {})
        self.by_name[name] = with_conditions(before, [condition], now=NOW, groups=groups)
        return before

    def warn(self, owner: Mapping[str, Any], condition: Condition) -> None:
        self.warned.append(owner["metadata"]["name"])

    def of(self, name: str) -> dict[str, Any]:
        (found,) = self.by_name[name]["conditions"]
        return found


class Failing(SeriesInMemory):
    """The stand-in, refusing to name the labels of one metric (an error mid-check)."""

    def __init__(self, series: Sequence[dict[str, str]], metric: str) -> None:
        super().__init__(series)
        self.metric = metric

    async def label_names(self, selector: str) -> list[str]:
        if selector == self.metric:
            raise series_check.PrometheusRefused("Prometheus at test: HTTP 503: overloaded")
        return await super().label_names(selector)


def watch(source: Any, statuses: Statuses, *, period: float = 300.0) -> SeriesWatch:
    return SeriesWatch(
        source,
        url="http://prometheus.test",
        period=period,
        delay=0.0,
        record=statuses.record,
        on_no_series=statuses.warn,
        states=ConditionStates("test_series_found", "test", "status"),
    )


def schedule(series: SeriesWatch, owners: Sequence[dict[str, Any]]) -> list[tuple[str, str]]:
    keys = []
    for owner in owners:
        key = (owner["metadata"]["namespace"], owner["metadata"]["name"])
        series.soon(key, lambda owner=owner: owner)
        keys.append(key)
    return keys


async def test_one_pass_over_a_thousand_sloalerts_asks_a_few_questions() -> None:
    source, statuses = SeriesInMemory(SERIES), Statuses()
    owners = [sloalert(f"live-{n}") for n in range(990)]
    owners += [sloalert(f"dead-{n}", job=f"api-{n % 5}") for n in range(10)]
    series = watch(source, statuses)
    await series.check(schedule(series, owners))

    assert {statuses.of(f"live-{n}")["status"] for n in range(990)} == {"True"}
    assert statuses.of("dead-3")["message"] == (
        'spec.indicator.preset: http_requests_total exists, but none with job="api-3"; '
        "no target of that job exports it"
    )
    # 6 distinct selectors in one batch; the 5 dead ones share their metric's label names and
    # its job values, asked once each.
    assert [kind for kind, _ in source.requests] == ["series", "labels", "values"]
    assert sorted(statuses.warned) == sorted(f"dead-{n}" for n in range(10))


async def test_an_error_makes_only_the_sloalerts_it_concerns_unknown() -> None:
    source = Failing(SERIES, metric="node_memory_MemTotal_bytes")
    statuses = Statuses()
    node = sloalert("node")
    node["spec"]["indicator"] = {"preset": {"name": "node-memory"}}
    node["spec"]["alerting"] = {"mode": "threshold", "below": 0.1}
    series = watch(source, statuses)
    await series.check(schedule(series, [sloalert("api"), node]))

    assert statuses.of("api")["status"] == "True"
    unknown = statuses.of("node")
    assert (unknown["status"], unknown["reason"]) == ("Unknown", "PrometheusError")
    assert unknown["message"].startswith("Prometheus at test: HTTP 503: overloaded")
    assert statuses.warned == []


async def test_a_check_that_stays_false_warns_once() -> None:
    source, statuses = SeriesInMemory(SERIES), Statuses()
    series = watch(source, statuses)
    keys = schedule(series, [sloalert("dead", job="api")])
    await series.check(keys)
    await series.check(keys)
    assert condition_status(statuses.by_name["dead"], "SeriesFound") == "False"
    assert statuses.warned == ["dead"]


async def test_an_invalid_spec_is_not_checked() -> None:
    source, statuses = SeriesInMemory(SERIES), Statuses()
    broken = sloalert("broken")
    broken["spec"]["objective"] = 100
    series = watch(source, statuses)
    await series.check(schedule(series, [broken]))
    assert statuses.by_name == {}
    assert source.requests == []


async def test_the_watch_checks_soon_then_every_period_until_forgotten() -> None:
    source, statuses = SeriesInMemory(SERIES), Statuses()
    series = watch(source, statuses, period=0.05)
    series.start()
    try:
        (key,) = schedule(series, [sloalert("api")])
        await _until(lambda: len(source.requests) >= 3)
        series.forget(key)
        settled = len(source.requests)
        await asyncio.sleep(0.2)
        assert len(source.requests) <= settled + 1  # at most a pass already under way
    finally:
        await series.close()
    assert statuses.of("api")["status"] == "True"


async def _until(condition: Any, seconds: float = 10.0) -> None:
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110 - polling the watch's own progress
            await asyncio.sleep(0.01)


# --- settings ---------------------------------------------------------------------------------
@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in list(os.environ):
        if name.startswith("SLOALERT_"):
            monkeypatch.delenv(name)
    return monkeypatch


def test_without_a_prometheus_url_nothing_is_checked(clean_environment: Any) -> None:
    settings = load_settings()
    assert settings.prometheus_url is None
    assert (settings.series_check_delay, settings.series_check_period) == (30.0, 300.0)


def test_the_check_settings_take_a_url_and_durations(clean_environment: Any) -> None:
    clean_environment.setenv(
        "SLOALERT_PROMETHEUS_URL", "http://prometheus-operated.monitoring:9090"
    )
    clean_environment.setenv("SLOALERT_SERIES_CHECK_PERIOD", "2m")
    clean_environment.setenv("SLOALERT_SERIES_CHECK_DELAY", "45s")
    settings = load_settings()
    assert settings.prometheus_url == "http://prometheus-operated.monitoring:9090"
    assert (settings.series_check_delay, settings.series_check_period) == (45.0, 120.0)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SLOALERT_PROMETHEUS_URL", "prometheus:9090"),
        ("SLOALERT_SERIES_CHECK_PERIOD", "5 minutes"),
        ("SLOALERT_SERIES_CHECK_PERIOD", "0"),
    ],
)
def test_a_bad_check_setting_is_named(clean_environment: Any, name: str, value: str) -> None:
    clean_environment.setenv(name, value)
    with pytest.raises(SettingsError) as refused:
        load_settings()
    assert f"{name}={value!r}" in str(refused.value)


TOTAL = 'http_requests_total{job="fastapi"}'


def grouped(name: str, max_groups: int) -> dict[str, Any]:
    owner = sloalert(name)
    owner["spec"]["indicator"] = {
        "ratio": {
            "errors": 'http_requests_total{job="fastapi",status="5xx"}',
            "total": 'http_requests_total{job="fastapi"}',
        },
        "groupBy": ["handler"],
        "maxGroups": max_groups,
    }
    return owner


async def test_a_grouped_sloalert_over_its_limit_is_false_naming_the_count() -> None:
    handlers = [
        {"__name__": "http_requests_total", "job": "fastapi", "handler": f"/h{n}", "status": "2xx"}
        for n in range(3)
    ]
    source, statuses = SeriesInMemory(handlers), Statuses()
    series = watch(source, statuses)
    await series.check(schedule(series, [grouped("over", 2), grouped("within", 3)]))

    over = statuses.of("over")
    assert (over["status"], over["reason"]) == ("False", "NoSeries")
    assert over["message"] == (
        "spec.indicator.groupBy: the series have 3 groups by handler, more than maxGroups (2): "
        "group by labels with a small, fixed set of values, or raise spec.indicator.maxGroups"
    )
    assert statuses.of("within")["status"] == "True"
    assert [statuses.by_name[name].get("groups") for name in ("over", "within")] == [3, 3]
    # One count for both: they count the same groups.
    assert [kind for kind, _ in source.requests].count("count") == 1


@pytest.mark.parametrize(
    ("indicator", "message"),
    [
        (
            {"groupBy": ["handlr"]},
            'spec.indicator.groupBy: the series of http_requests_total{job="fastapi"} have no '
            "label handlr, only: handler, job, status;",
        ),
        (
            {"ratio": {"errors": 'errors_total{job="fastapi"}', "total": TOTAL}},
            'spec.indicator.groupBy: the series of errors_total{job="fastapi"} have no label '
            "handler, only: job;",
        ),
    ],
    ids=["a misspelt label", "errors without the label"],
)
async def test_a_group_label_missing_from_the_series_is_false_naming_it(
    indicator: dict[str, Any], message: str
) -> None:
    # Summed by a label they lack, the errors fall in no group: every group's ratio stays 0.
    handlers = [
        {"__name__": "http_requests_total", "job": "fastapi", "handler": f"/h{n}", "status": "2xx"}
        for n in range(3)
    ]
    errors = {"__name__": "errors_total", "job": "fastapi"}
    statuses = Statuses()
    series = watch(SeriesInMemory([*handlers, errors]), statuses)
    owner = grouped("g", 5)
    owner["spec"]["indicator"].update(indicator)
    await series.check(schedule(series, [owner]))
    found = statuses.of("g")
    assert (found["status"], found["reason"]) == ("False", "NoSeries")
    assert found["message"].startswith(message), found["message"]


async def test_a_group_count_prometheus_cannot_give_is_unknown() -> None:
    class CountFails(SeriesInMemory):
        async def count(self, query: str) -> int:
            raise series_check.PrometheusRefused("Prometheus at test: HTTP 422: bad query")

    statuses = Statuses()
    series = watch(CountFails(SERIES), statuses)
    await series.check(schedule(series, [grouped("g", 2)]))
    assert (statuses.of("g")["status"], statuses.of("g")["reason"]) == (
        "Unknown",
        "PrometheusError",
    )
