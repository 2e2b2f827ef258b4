"""The dead-query check's own logic, on testkit's in-memory stand-in for Prometheus' series API
(tests/pipeline/test_dead_queries.py runs it against the real stack)."""

from __future__ import annotations

from testkit import dead_queries
from testkit.series_stand_in import SeriesInMemory

FASTAPI_ONLY = [
    {"__name__": "http_requests_total", "job": "fastapi", "status": status}
    for status in ("2xx", "5xx")
]


async def test_an_alternation_is_asked_per_alternative_and_the_dead_one_named() -> None:
    queries = [
        dead_queries.Query(
            "a.json: panel 'RPS'", 'sum(rate(http_requests_total{job=~"django|fastapi"}[5m]))'
        ),
        dead_queries.Query(
            "b.json: panel 'Fine'", 'sum(rate(http_requests_total{job=~"fastapi"}[5m]))'
        ),
    ]
    dead = await dead_queries._dead(queries, SeriesInMemory(FASTAPI_ONLY))
    assert [str(item) for item in dead] == [
        "a.json: panel 'RPS': http_requests_total{job=~\"django|fastapi\"}: http_requests_total "
        'exists, but none with job="django"; no target of that job exports it '
        '(one of job=~"django|fastapi")'
    ]


async def test_an_optional_query_is_dead_only_for_what_time_cannot_fix() -> None:
    queries = [
        dead_queries.Query(
            "firing", 'http_requests_total{job="fastapi",status="4xx"}', optional=True
        ),
        dead_queries.Query("wrong job", 'http_requests_total{job=~"fastapi|flask"}', optional=True),
    ]
    dead = await dead_queries._dead(queries, SeriesInMemory(FASTAPI_ONLY))
    assert [(item.query.source, item.reason.split(";")[0]) for item in dead] == [
        ("wrong job", 'http_requests_total exists, but none with job="flask"')
    ]
