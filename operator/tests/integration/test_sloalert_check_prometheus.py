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


@pytest.fixture(scope="module")
def fastapi_only(
    apps: dict[str, RunningServer], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningPrometheus]:
    """A Prometheus that scrapes the FastAPI app alone (no django job)."""
    jobs = [ScrapeJob("fastapi", [target_of(apps["fastapi"])])]
    with run_prometheus(tmp_path_factory.mktemp("prometheus-fastapi"), jobs) as prom:
        prom.wait_for(
            "FastAPI's requests",
            lambda: prom.series('http_requests_total{job="fastapi"}'),
            timeout=60,
        )
        yield prom


def _check(*argv: str, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["check", *argv], stdin=io.StringIO(stdin), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def _sloalert(name: str, indicator: dict[str, object], **spec: object) -> str:
    body = {
        "apiVersion": "slo.fastdining.dev/v1alpha1",
        "kind": "SLOAlert",
        "metadata": {"name": name, "namespace": "apps"},
        "spec": {"service": "fastapi", "indicator": indicator, "objective": 99.9, **spec},
    }
    return yaml.safe_dump(body)


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


def test_an_alternation_is_checked_per_alternative_naming_the_job_not_scraped(
    fastapi_only: RunningPrometheus,
) -> None:
    """`job=~"django|fastapi"` with only FastAPI scraped would count FastAPI alone, silently:
    both the total and the errors name django (the errors' `status="5xx"` may come later)."""
    both = _sloalert(
        "both-apps",
        {
            "ratio": {
                "errors": 'http_requests_total{job=~"django|fastapi",status="5xx"}',
                "total": 'http_requests_total{job=~"django|fastapi"}',
            }
        },
    )
    code, out, _ = _check("--prometheus", fastapi_only.base_url, "-", stdin=both)
    assert code == 1
    said = (
        'http_requests_total exists, but none with job="django"; no target of that job exports '
        'it (one of job=~"django|fastapi")'
    )
    assert out.splitlines() == [
        f"-: apps/both-apps: spec.indicator.ratio.total: {said}",
        f"-: apps/both-apps: spec.indicator.ratio.errors: {said}",
    ]
    fastapi = both.replace("django|fastapi", "fastapi")
    assert _check("--prometheus", fastapi_only.base_url, "-", stdin=fastapi)[0] == 0


def test_messages_name_the_values_of_the_selectors_own_job_only(
    apps: dict[str, RunningServer], prometheus: RunningPrometheus
) -> None:
    """A shared Prometheus holds other teams' jobs: their names and values stay unsaid."""
    threshold = {"mode": "threshold", "above": 0.5}
    documents = [
        _sloalert("other-job", {"expression": 'up{job="payments"}'}, alerting=threshold),
        _sloalert("no-job", {"expression": 'up{instance="nowhere:1"}'}, alerting=threshold),
        _sloalert(
            "own-job",
            {
                "ratio": {
                    "errors": 'http_requests_total{job="fastapi",status="5xx"}',
                    "total": 'http_requests_total{job="fastapi",handler="/nope"}',
                }
            },
        ),
    ]
    code, out, _ = _check("--prometheus", prometheus.base_url, "-", stdin="---\n".join(documents))
    assert code == 1
    lines = out.splitlines()
    assert lines[:2] == [
        "-: apps/other-job: spec.indicator.expression: up exists, but none with "
        'job="payments"; no target of that job exports it',
        "-: apps/no-job: spec.indicator.expression: up exists, but none with "
        'instance="nowhere:1"; instance\'s values are named only for a selector with a job="..."',
    ]
    scraped = [target_of(server) for server in apps.values()]
    assert not [t for t in scraped if t in out], out
    assert not {"django", "node"} & set(out.replace(";", " ").replace(",", " ").split())
    own = lines[2]
    assert own.startswith(
        '-: apps/own-job: spec.indicator.ratio.total: http_requests_total{job="fastapi"} '
        'exists, but none with handler="/nope"; handler has: '
    )
    assert "/ping" in own and len(lines) == 3, out


def test_a_grouped_slo_over_its_limit_is_named_with_the_count(
    prometheus: RunningPrometheus,
) -> None:
    """groupBy handler: every handler FastAPI served is a group; one fewer than there are is
    one too many, as many as there are is fine."""
    handlers = {s["handler"] for s in prometheus.series('http_requests_total{job="fastapi"}')}
    assert len(handlers) >= 2, handlers

    def by_handler(max_groups: int) -> str:
        return _sloalert(
            "by-handler",
            {
                "ratio": {
                    "errors": 'http_requests_total{job="fastapi",status="5xx"}',
                    "total": 'http_requests_total{job="fastapi"}',
                },
                "groupBy": ["handler"],
                "maxGroups": max_groups,
            },
        )

    code, out, _ = _check(
        "--prometheus", prometheus.base_url, "-", stdin=by_handler(len(handlers) - 1)
    )
    assert code == 1
    assert out.splitlines() == [
        f"-: apps/by-handler: spec.indicator.groupBy: the series have {len(handlers)} groups by "
        f"handler, more than maxGroups ({len(handlers) - 1}): group by labels with a small, fixed "
        "set of values, or raise spec.indicator.maxGroups"
    ]
    code, out, _ = _check("--prometheus", prometheus.base_url, "-", stdin=by_handler(len(handlers)))
    assert code == 0, out


def test_an_invalid_file_is_listed_and_nothing_is_called_ok(
    prometheus: RunningPrometheus,
) -> None:
    valid = (corpus.MANIFESTS / "fastapi-availability.yaml").read_text(encoding="utf-8")
    invalid = _sloalert("bad", {"preset": {"name": "fastapi-availability"}}).replace("99.9", "100")
    code, out, err = _check(
        "--prometheus", prometheus.base_url, "-", stdin=f"{valid}---\n{invalid}"
    )
    assert (code, err) == (1, "")
    # The problems, and no "ok: ..." after them.
    assert out.startswith("-: apps/bad: spec.objective: "), out
    assert [line for line in out.splitlines() if not line.startswith("-: apps/bad: ")] == []


def test_prometheus_down_exits_2_and_calls_nothing_dead() -> None:
    url = f"http://{LOOPBACK}:{free_port()}"
    code, out, err = _check("--prometheus", url, str(corpus.MANIFESTS))
    assert (code, out) == (2, "")
    assert err.startswith(f"sloalert check: Prometheus at {url}"), err


def test_a_url_that_is_not_prometheus_exits_2(apps: dict[str, RunningServer]) -> None:
    code, out, err = _check("--prometheus", apps["fastapi"].base_url, str(corpus.MANIFESTS))
    assert (code, out) == (2, "")
    assert "HTTP 404" in err, err
