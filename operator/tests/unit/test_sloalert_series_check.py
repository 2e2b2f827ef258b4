"""The series check's pure logic: which selectors an indicator reads, how they are batched,
how a dead one is explained. No network: Prometheus' series API is played by testkit's
`SeriesInMemory` (a stand-in over a fixed list of series, recording requests);
test_sloalert_check_prometheus.py holds the same logic to a real Prometheus.
"""

from __future__ import annotations

from typing import Any

import pytest
from sloalert import series_check
from sloalert.operator.status import series_found, series_unknown
from sloalert.promql import parse_selector
from sloalert.series_check import Probe
from sloalert.validation import load
from testkit.series_stand_in import SeriesInMemory

FASTAPI = [
    {"__name__": "http_requests_total", "job": "fastapi", "handler": h, "status": s}
    for h in ("/ping", "/menu")
    for s in ("2xx", "4xx")
]
NODE = [{"__name__": "up", "job": job} for job in ("node", "fastapi", "django")]


def spec(indicator: dict[str, Any], **alerting: Any) -> Any:
    body = {
        "apiVersion": "slo.fastdining.dev/v1alpha1",
        "kind": "SLOAlert",
        "metadata": {"name": "x", "namespace": "apps"},
        "spec": {"service": "s", "indicator": indicator, "objective": 99.0},
    }
    if alerting:
        body["spec"]["alerting"] = alerting
    return load(body).spec


def probe(text: str, *, optional: bool = False) -> Probe:
    return Probe("spec.indicator.ratio.total", parse_selector(text), optional=optional)


async def dead_messages(source: SeriesInMemory, *probes: Probe) -> list[str]:
    found = await series_check.check_many({"slo": probes}, source)
    return [dead.message for dead in found["slo"]]


# --- which selectors an indicator reads ------------------------------------------------------
def test_a_ratio_reads_its_total_only_since_errors_may_not_exist_yet() -> None:
    (only,) = series_check.probes(
        spec({"ratio": {"errors": 'a_total{job="x",code="500"}', "total": 'a_total{job="x"}'}})
    )
    assert (only.field, str(only.selector), only.optional) == (
        "spec.indicator.ratio.total",
        'a_total{job="x"}',
        False,
    )


def test_a_latency_reads_its_inf_bucket() -> None:
    (only,) = series_check.probes(
        spec({"latency": {"histogram": 'h_bucket{job="x"}', "thresholdSeconds": 0.5}})
    )
    assert (only.field, str(only.selector)) == (
        "spec.indicator.latency.histogram",
        'h_bucket{job="x",le="+Inf"}',
    )


def test_a_preset_reads_what_its_no_data_alert_reads() -> None:
    (only,) = series_check.probes(spec({"preset": {"name": "fastapi-availability", "job": "api"}}))
    assert (only.field, str(only.selector)) == (
        "spec.indicator.preset",
        'http_requests_total{job="api"}',
    )


def test_an_expression_selector_under_or_vector_is_optional_and_one_read_elsewhere_is_not() -> None:
    expression = (
        '(sum(rate(a{s="5xx"}[$window])) or vector(0)) / (sum(rate(b[$window])) > 0)'
        " + (sum(rate(b[$window])) or vector(0))"
    )
    probes = series_check.probes(spec({"expression": expression}))
    assert {str(p.selector): p.optional for p in probes} == {'a{s="5xx"}': True, "b": False}
    assert {p.field for p in probes} == {"spec.indicator.expression"}


def test_or_with_another_series_is_no_fallback() -> None:
    probes = series_check.probes(
        spec({"expression": "sum(rate(a[$window])) or sum(rate(b[$window]))"})
    )
    assert [p.optional for p in probes] == [False, False]


# --- matching, as Prometheus does ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("selector", "selected"),
    [
        ('up{job="node"}', True),
        ('up{job="django"}', False),
        ('up{job=~"no.*"}', True),
        ('up{job=~"no"}', False),  # regexes are anchored
        ('up{job!="node"}', False),
        ('up{missing=""}', True),  # an absent label matches ""
        ('up{missing!="x"}', True),
        ('other{job="node"}', False),
    ],
)
def test_selects_follows_promql_matching(selector: str, selected: bool) -> None:
    assert series_check.selects(parse_selector(selector), NODE[0]) is selected


# --- explanations -----------------------------------------------------------------------------
async def test_a_metric_that_exists_nowhere_is_named() -> None:
    source = SeriesInMemory(FASTAPI)
    assert await dead_messages(source, probe('http_request_total{job="fastapi"}')) == [
        "no series named http_request_total"
    ]


async def test_a_wrong_job_names_the_jobs_there_are() -> None:
    source = SeriesInMemory(NODE)
    assert await dead_messages(source, probe('up{job="fastdining-api"}')) == [
        'up exists, but none with job="fastdining-api"; job has: django, fastapi, node'
    ]


async def test_a_misspelt_label_name_lists_the_labels_there_are() -> None:
    source = SeriesInMemory(FASTAPI)
    assert await dead_messages(source, probe('http_requests_total{jbo="fastapi"}')) == [
        'http_requests_total exists, but none with jbo="fastapi"; its series have no label jbo, '
        "only: handler, job, status"
    ]


async def test_the_first_matcher_that_empties_the_selection_is_blamed_job_first() -> None:
    source = SeriesInMemory(FASTAPI)
    assert await dead_messages(
        source, probe('http_requests_total{status="5xx",job="fastapi"}')
    ) == [
        'http_requests_total{job="fastapi"} exists, but none with status="5xx"; '
        "status has: 2xx, 4xx"
    ]
    assert await dead_messages(source, probe('http_requests_total{status="5xx",job="api"}')) == [
        'http_requests_total exists, but none with job="api"; job has: fastapi'
    ]


async def test_regex_and_negative_matchers_are_asked_about_not_guessed() -> None:
    source = SeriesInMemory(FASTAPI)
    assert await dead_messages(
        source, probe('http_requests_total{job="fastapi",status=~"5.."}')
    ) == [
        'http_requests_total{job="fastapi"} exists, but none with status=~"5.."; '
        "status has: 2xx, 4xx"
    ]
    assert ("series", ['http_requests_total{job="fastapi",status=~"5.."}']) in source.requests
    single = SeriesInMemory([{"__name__": "up", "job": "node"}])
    assert await dead_messages(single, probe('up{job!="node"}')) == [
        'up exists, but none with job!="node"; job has: node'
    ]


async def test_at_most_a_few_values_are_named_sorted() -> None:
    source = SeriesInMemory([{"__name__": "up", "job": f"job-{n:02}"} for n in range(12)])
    assert await dead_messages(source, probe('up{job="web"}')) == [
        'up exists, but none with job="web"; job has: job-00, job-01, job-02, job-03, job-04, ...'
    ]


async def test_an_optional_selector_may_lack_a_value_but_not_a_name_or_a_job() -> None:
    source = SeriesInMemory(FASTAPI)
    assert (
        await dead_messages(
            source, probe('http_requests_total{job="fastapi",status="5xx"}', optional=True)
        )
        == []
    )
    assert await dead_messages(
        source, probe('htp_requests_total{status="5xx"}', optional=True)
    ) == ["no series named htp_requests_total"]
    assert await dead_messages(
        source, probe('http_requests_total{job="api",status="5xx"}', optional=True)
    ) == ['http_requests_total exists, but none with job="api"; job has: fastapi']


async def test_live_selectors_cost_one_request_per_batch() -> None:
    source = SeriesInMemory(NODE)
    selectors = 2 * series_check.BATCH_SIZE + 5
    groups = {n: [probe(f'up{{job="node",n!="{n}"}}')] for n in range(selectors)}
    found = await series_check.check_many(groups, source)
    assert all(dead == [] for dead in found.values())
    assert [len(asked) for kind, asked in source.requests] == [
        series_check.BATCH_SIZE,
        series_check.BATCH_SIZE,
        5,
    ]


async def test_a_selector_read_by_many_sloalerts_is_asked_about_once() -> None:
    """And its explanation needs no probe: the job's values say no series has it."""
    source = SeriesInMemory(NODE)
    groups = {n: [probe('up{job="web"}')] for n in range(100)}
    found = await series_check.check_many(groups, source)
    assert {len(dead) for dead in found.values()} == {1}
    assert [kind for kind, _ in source.requests] == ["series", "labels", "values"]


async def test_a_truncated_batch_is_not_trusted_for_what_it_did_not_confirm(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(series_check, "SERIES_LIMIT", 2)
    source = SeriesInMemory(FASTAPI + NODE)
    found = await series_check.live(
        [parse_selector("http_requests_total"), parse_selector("up")], source
    )
    assert {str(s) for s in found} == {"http_requests_total", "up"}
    assert source.requests[1:] == [("series", ["up"])]


# --- the condition ----------------------------------------------------------------------------
def test_series_found_names_every_dead_selector_with_its_field() -> None:
    dead = [
        series_check.Dead(probe("a"), "no series named a"),
        series_check.Dead(probe("b"), "no series named b"),
    ]
    condition = series_found(dead, checked=3)
    assert (condition.type, condition.status, condition.reason) == (
        "SeriesFound",
        "False",
        "NoSeries",
    )
    assert condition.message == (
        "spec.indicator.ratio.total: no series named a | "
        "spec.indicator.ratio.total: no series named b"
    )
    assert series_found([], checked=3).status == "True"


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (series_check.PrometheusUnreachable("Prometheus at u: refused"), "PrometheusUnreachable"),
        (series_check.PrometheusRefused("Prometheus at u: HTTP 503: busy"), "PrometheusError"),
    ],
)
def test_prometheus_unable_to_answer_is_unknown_never_false(
    error: series_check.PrometheusError, reason: str
) -> None:
    condition = series_unknown(error)
    assert (condition.status, condition.reason) == ("Unknown", reason)
    assert condition.message.startswith(str(error))
