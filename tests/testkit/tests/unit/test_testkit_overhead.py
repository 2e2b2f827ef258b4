"""The overhead benchmarks' arithmetic and request plumbing: interleaving, ratios, spread."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from testkit import overhead


def test_sides_alternate_abba_after_one_warm_up_each() -> None:
    calls: list[tuple[str, int]] = []

    def side(name: str, cost: float) -> Callable[[int], float]:
        def serve(requests: int) -> float:
            calls.append((name, requests))
            return cost

        return serve

    per_request = overhead.interleaved(
        {"a": side("a", 2.0), "b": side("b", 1.0)}, rounds=3, requests=10, warmup=50
    )
    rounds = [("a", 10), ("b", 10), ("b", 10), ("a", 10), ("a", 10), ("b", 10)]
    assert calls == [("a", 50), ("b", 50), *rounds]
    assert per_request == {"a": [2.0] * 3, "b": [1.0] * 3}


def test_the_ratio_is_bare_cpu_over_instrumented_cpu_per_round() -> None:
    per_request = {overhead.INSTRUMENTED: [2.0, 4.0, 1.0], overhead.BARE: [1.0, 1.0, 1.0]}
    spread = overhead.cpu_spread(per_request)
    assert spread.ratios == (0.5, 0.25, 1.0)
    assert spread.median == 0.5
    assert "median 0.500x over 3 rounds" in spread.describe()


def test_quartiles_and_range_are_reported() -> None:
    spread = overhead.Spread(tuple(value / 10 for value in range(1, 10)))
    low, high = spread.quartiles
    assert low < spread.median < high
    assert "range 0.100-0.900" in spread.describe()


def test_the_figure_is_held_to_the_target_with_its_spread() -> None:
    spread = overhead.Spread((0.84, 0.9, 0.92))
    figure = overhead.held_to_target(spread, 0.85, request="GET /ping", baseline="the bare app")
    assert (figure.value, figure.met, figure.target) == (0.9, True, ">= 0.85x")
    assert figure.detail == spread.describe()
    assert not overhead.held_to_target(
        overhead.Spread((0.8, 0.84)), 0.85, request="GET /ping", baseline="the bare app"
    ).met


def _echo_path(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    environ["touched"] = True  # apps write into the environ: each request needs its own
    status = "200 OK" if environ["PATH_INFO"] == "/ping" else "404 Not Found"
    start_response(status, [("Content-Type", "text/plain")])
    return [environ["HTTP_HOST"].encode(), b" ", environ["QUERY_STRING"].encode()]


def test_a_wsgi_get_reads_the_body_and_closes_it() -> None:
    closed: list[bool] = []

    class Body(list[bytes]):
        def close(self) -> None:
            closed.append(True)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Body:
        start_response("200 OK", [])
        return Body([b"po", b"ng"])

    assert overhead.wsgi_get(app, "/ping", "127.0.0.1:8900") == (200, b"pong")
    assert closed == [True]


def test_the_environ_splits_path_query_and_host() -> None:
    environ = overhead.wsgi_environ("/restaurants/?cuisine=thai", "127.0.0.1:8900")
    assert (environ["PATH_INFO"], environ["QUERY_STRING"]) == ("/restaurants/", "cuisine=thai")
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("127.0.0.1", "8900")
    assert overhead.wsgi_get(_echo_path, "/ping?x=1", "localhost:80") == (200, b"localhost:80 x=1")


def test_cpu_per_request_refuses_any_answer_but_200() -> None:
    assert overhead.wsgi_cpu_per_request(_echo_path, "/ping", "127.0.0.1:8900", 20) >= 0
    with pytest.raises(RuntimeError, match=r"GET /nowhere: answers \[404\]"):
        overhead.wsgi_cpu_per_request(_echo_path, "/nowhere", "127.0.0.1:8900", 5)
