"""`sloalert check` against a real Prometheus scraping the real apps and node_exporter.

Every shipped SLOAlert reads series that exist; each SLOAlert in testdata/dead reads one that
does not and is reported with the reason its annotations give; a Prometheus that is down, or
a URL that is not a Prometheus, exits 2 and reports no selector as dead.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from sloalert import cli, series_check
from sloalert.promql import Selector
from sloalert.validation import load
from testkit import sloalert_testdata as corpus
from testkit.apps import run_django, run_fastapi, run_node_exporter
from testkit.processes import LOOPBACK, RunningServer, free_port
from testkit.prometheus import RunningPrometheus, ScrapeJob, run_prometheus, target_of

pytestmark = pytest.mark.integration

DEAD = sorted((corpus.TESTDATA / "dead").glob("*.yaml"))
# Pages that make each app create the series the shipped SLOs read (requests, latency, and
# Django's database queries).
FASTAPI_PAGES = ("/ping", "/recommendations")
DJANGO_PAGES = ("/ping", "/restaurants/")


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, RunningServer]]:
    workdir = tmp_path_factory.mktemp("apps")
    with (
        run_fastapi(workdir) as fastapi,
        run_django(workdir) as django,
        run_node_exporter(workdir) as node,
    ):
        yield {"fastapi": fastapi, "django": django, "node": node}


@pytest.fixture(scope="module")
def prometheus(
    apps: dict[str, RunningServer], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningPrometheus]:
    jobs = [ScrapeJob(job, [target_of(server)]) for job, server in apps.items()]
    with run_prometheus(tmp_path_factory.mktemp("prometheus"), jobs) as prom:
        for app, pages in (("fastapi", FASTAPI_PAGES), ("django", DJANGO_PAGES)):
            for page in pages:
                httpx.get(apps[app].base_url + page, timeout=10)
        prom.wait_for(
            "every series the shipped SLOs need",
            lambda: all(prom.series(str(s)) for s in _shipped_selectors()),
            timeout=60,
        )
        yield prom


def _shipped_selectors(*, optional: bool = False) -> set[Selector]:
    return {
        probe.selector
        for example in corpus.valid()
        if example.path.parent == corpus.MANIFESTS
        for probe in series_check.probes(load(example.body).spec)
        if probe.optional == optional
    }


def _check(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["check", *argv], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_every_shipped_sloalert_reads_series_that_exist(prometheus: RunningPrometheus) -> None:
    code, out, err = _check("--prometheus", prometheus.base_url, str(corpus.MANIFESTS))
    assert (code, err) == (0, ""), out
    assert out.startswith("ok: the 11 SLOAlert(s) read series that exist"), out


def test_the_5xx_seeds_pass_before_the_first_error(prometheus: RunningPrometheus) -> None:
    """The seeds' `... or vector(0)` selectors of 5xx series match nothing here (no request
    failed), and the check above passed all the same: their values may come later."""
    absent = [s for s in _shipped_selectors(optional=True) if not prometheus.series(str(s))]
    assert {s.metric for s in absent} == {
        "http_requests_total",
        "django_http_responses_total_by_status_view_method_total",
    }


@pytest.mark.parametrize("path", DEAD, ids=lambda p: p.stem)
def test_a_dead_selector_is_named_with_the_reason(
    path: Path, prometheus: RunningPrometheus
) -> None:
    example = corpus.Example(path, yaml.safe_load(path.read_text(encoding="utf-8")))
    code, out, _ = _check("--prometheus", prometheus.base_url, str(path))
    assert code == 1
    assert out.splitlines() == [f"{path}: apps/{path.stem}: {example.field}: {example.says}"]


def test_the_dead_are_told_from_the_live_in_one_run(prometheus: RunningPrometheus) -> None:
    code, out, _ = _check(
        "--prometheus", prometheus.base_url, str(corpus.MANIFESTS), *map(str, DEAD)
    )
    assert code == 1
    assert sorted(line.split(": ")[1] for line in out.splitlines()) == sorted(
        f"apps/{path.stem}" for path in DEAD
    )


def test_prometheus_down_exits_2_and_calls_nothing_dead() -> None:
    url = f"http://{LOOPBACK}:{free_port()}"
    code, out, err = _check("--prometheus", url, str(corpus.MANIFESTS))
    assert (code, out) == (2, "")
    assert err.startswith(f"sloalert check: Prometheus at {url}"), err


def test_a_url_that_is_not_prometheus_exits_2(apps: dict[str, RunningServer]) -> None:
    code, out, err = _check("--prometheus", apps["fastapi"].base_url, str(corpus.MANIFESTS))
    assert (code, out) == (2, "")
    assert "HTTP 404" in err, err
