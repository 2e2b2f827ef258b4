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
    split = [part for probe in probes for part in series_check.per_alternative(probe)]
    found = await series_check.check_many({"slo": split}, source)
    return [dead.message for dead in found["slo"]]


# --- which selectors an indicator reads ------------------------------------------------------
def test_a_ratio_reads_its_total_and_its_errors_which_may_be_absent_until_the_first_error() -> None:
    total, errors = series_check.probes(
        spec({"ratio": {"errors": 'a_total{job="x",code="500"}', "total": 'a_total{job="x"}'}})
    )
    assert (total.field, str(total.selector), total.optional) == (
        "spec.indicator.ratio.total",
        'a_total{job="x"}',
        False,
    )
    assert (errors.field, str(errors.selector), errors.optional) == (
        "spec.indicator.ratio.errors",
        'a_total{job="x",code="500"}',
        True,
    )


def test_a_plain_alternation_is_read_once_per_alternative() -> None:
    probes = series_check.probes(
        spec({"expression": 'sum(rate(a{job=~"django|fastapi",s=~"5..|4.."}[$window]))'})
    )
    assert [(str(p.selector), str(p.alternative_of)) for p in probes] == [
        ('a{job="django",s=~"5..|4.."}', 'job=~"django|fastapi"'),
        ('a{job="fastapi",s=~"5..|4.."}', 'job=~"django|fastapi"'),
    ]


@pytest.mark.parametrize(
    ("matcher", "split"),
    [
        ('job=~"a|b|a"', ["a", "b"]),
        ('job=~"a"', []),  # one alternative: no alternation
        ('job=~"a|"', []),  # also matches no job label at all
        ('job=~"a.|b"', []),  # a regex, not a list of names
        ('job!~"a|b"', []),
        ('job="a|b"', []),
    ],
)
def test_only_plain_alternations_are_split(matcher: str, split: list[str]) -> None:
    parts = series_check.alternatives(parse_selector(f"up{{{matcher}}}"))
    assert [part.matchers[0].value for part, _ in parts] == split


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


def test_a_selector_under_or_zero_times_the_total_is_optional() -> None:
    # What `sloalert convert` writes for OpenSLO's good over total: no good series yet (every
    # event failed) is 0 good events, taken from the total, which is required.
    expression = (
        "1 - ((sum(rate(good[$window])) or 0 * sum(rate(total[$window])))"
        " / (sum(rate(total[$window])) > 0))"
    )
    probes = series_check.probes(spec({"expression": expression}))
    assert {str(p.selector): p.optional for p in probes} == {"good": True, "total": False}


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


async def test_a_wrong_job_names_no_other_job() -> None:
    """Other jobs' values are other tenants' data: a message names none of them."""
    source = SeriesInMemory(NODE)
    assert await dead_messages(source, probe('up{job="fastdining-api"}')) == [
        'up exists, but none with job="fastdining-api"; no target of that job exports it'
    ]


async def test_values_are_named_only_among_the_selectors_own_job() -> None:
    series = [
        {"__name__": "orders_total", "job": job, "tenant": f"{job}-secret"}
        for job in ("payments", "web")
    ]
    source = SeriesInMemory(series)
    messages = await dead_messages(
        source,
        probe('orders_total{job="web",tenant="acme"}'),
        probe('orders_total{job=~"web|shop"}'),
        probe('orders_total{tenant="acme"}'),
        probe('orders_total{job!="payments",tenant="acme"}'),
    )
    assert messages == [
        'orders_total{job="web"} exists, but none with tenant="acme"; tenant has: web-secret',
        'orders_total exists, but none with job="shop"; no target of that job exports it '
        '(one of job=~"web|shop")',
        'orders_total exists, but none with tenant="acme"; tenant\'s values are named only '
        'for a selector with a job="..."',
        'orders_total{job!="payments"} exists, but none with tenant="acme"; tenant\'s values '
        'are named only for a selector with a job="..."',
    ]
    assert not any("payments-secret" in message for message in messages)


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
        'http_requests_total exists, but none with job="api"; no target of that job exports it'
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
        'up exists, but none with job!="node"; no target of a job it matches exports it '
        "(other jobs are not named)"
    ]


async def test_at_most_a_few_values_are_named_sorted() -> None:
    source = SeriesInMemory(
        [{"__name__": "up", "job": "web", "instance": f"i-{n:02}"} for n in range(12)]
    )
    assert await dead_messages(source, probe('up{job="web",instance="x"}')) == [
        'up{job="web"} exists, but none with instance="x"; '
        "instance has: i-00, i-01, i-02, i-03, i-04, ..."
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
    ) == ['http_requests_total exists, but none with job="api"; no target of that job exports it']
    assert await dead_messages(
        source, probe('http_requests_total{jobb="fastapi",status="5xx"}', optional=True)
    ) == [
        'http_requests_total exists, but none with jobb="fastapi"; its series have no label '
        "jobb, only: handler, job, status"
    ]


async def test_each_alternative_is_checked_and_the_dead_one_named() -> None:
    source = SeriesInMemory(FASTAPI)
    (total, errors) = (
        Probe("spec.indicator.ratio.total", parse_selector(text), optional=optional)
        for text, optional in (
            ('http_requests_total{job=~"django|fastapi"}', False),
            ('http_requests_total{job=~"django|fastapi",status="5xx"}', True),
        )
    )
    messages = await dead_messages(source, total, errors)
    dead_django = (
        'http_requests_total exists, but none with job="django"; no target of that job '
        'exports it (one of job=~"django|fastapi")'
    )
    assert messages == [dead_django, dead_django]


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


async def test_selectors_that_may_be_absent_cost_requests_per_metric_not_per_selector() -> None:
    """A thousand SLOAlerts' errors, each with a value of its own, are held to their names and
    job with the same three questions as one: they are never asked about one by one."""
    source = SeriesInMemory(FASTAPI)
    groups = {
        n: [
            probe('http_requests_total{job="fastapi"}'),
            probe(
                f'http_requests_total{{job="fastapi",handler="/x-{n}",status="5xx"}}', optional=True
            ),
        ]
        for n in range(1000)
    }
    found = await series_check.check_many(groups, source)
    assert all(dead == [] for dead in found.values())
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
