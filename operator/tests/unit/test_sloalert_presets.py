"""Presets read the metric names the exporters really emit, and know their buckets."""

from __future__ import annotations

from typing import Any

import promql_parser
import pytest
from sloalert import exporters, presets
from sloalert.models import Alerting, Preset
from sloalert.promql import parse, selectors_in
from sloalert.sli import ExpressionSLI, LatencySLI, RatioSLI

KNOWN_SERIES = {
    name
    for family in (
        *exporters.FASTAPI_FAMILIES,
        *exporters.DJANGO_FAMILIES,
        *exporters.NODE_FAMILIES,
        exporters.UP,
        exporters.DJANGO_DB_ERRORS,
    )
    for name in (
        [family.name, family.bucket, family.count] if family.kind == "histogram" else [family.name]
    )
}
BURN_RATE = Alerting()
THRESHOLD = Alerting(mode="threshold", above=0.5)


def _preset(name: str, **params: Any) -> Preset:
    return Preset.model_validate({"name": name, **params})


def _valid_params(name: str, alerting: Alerting) -> dict[str, Any]:
    definition = presets.PRESETS[name]
    params: dict[str, Any] = {"job": "app"} if definition.job_required else {}
    if definition.kind == "latency":
        params["thresholdSeconds"] = definition.buckets[5]
    return params


def _promql(name: str, alerting: Alerting) -> list[str]:
    sli = presets.build(_preset(name, **_valid_params(name, alerting)))
    texts = [sli.value("5m")]
    if not isinstance(sli, ExpressionSLI) or sli.ratio is not None:
        texts.append(sli.error_ratio("1h"))
    return texts


def test_the_presets_are_the_ones_the_crd_lists() -> None:
    assert set(presets.PRESETS) == {
        "fastapi-availability",
        "fastapi-latency",
        "django-availability",
        "django-latency",
        "django-db-latency",
        "target-down",
        "node-cpu",
        "node-memory",
    }


@pytest.mark.parametrize("name", presets.PRESETS)
def test_every_preset_reads_only_series_the_exporters_emit(name: str) -> None:
    for text in _promql(name, THRESHOLD):
        names = {selector.metric for selector in selectors_in(parse(text))}
        assert names <= KNOWN_SERIES, (name, names - KNOWN_SERIES)


@pytest.mark.parametrize("name", presets.PRESETS)
def test_every_preset_gives_promql_that_parses(name: str) -> None:
    for text in _promql(name, THRESHOLD):
        assert isinstance(promql_parser.parse(text), promql_parser.Expr)


def test_fastapi_availability_counts_grouped_5xx_over_all_requests() -> None:
    sli = presets.build(_preset("fastapi-availability", job="fastapi"))
    assert isinstance(sli, RatioSLI)
    assert str(sli.errors) == 'http_requests_total{job="fastapi",status="5xx"}'
    assert str(sli.total) == 'http_requests_total{job="fastapi"}'


def test_django_presets_leave_out_its_own_metrics_view() -> None:
    availability = presets.build(_preset("django-availability", job="django"))
    latency = presets.build(_preset("django-latency", job="django", thresholdSeconds=0.5))
    assert isinstance(availability, RatioSLI)
    assert isinstance(latency, LatencySLI)
    excluded = f'view!="{exporters.DJANGO_METRICS_VIEW}"'
    assert excluded in str(availability.total)
    assert 'status=~"5.."' in str(availability.errors)
    assert excluded in str(latency.histogram)


def test_a_latency_preset_counts_good_requests_in_its_threshold_bucket() -> None:
    sli = presets.build(_preset("fastapi-latency", job="fastapi", thresholdSeconds=1.0))
    assert isinstance(sli, LatencySLI)
    assert str(sli.good) == 'http_request_duration_seconds_bucket{job="fastapi",le="1.0"}'
    assert str(sli.all) == 'http_request_duration_seconds_bucket{job="fastapi",le="+Inf"}'


def test_a_quantile_preset_uses_histogram_quantile_on_the_real_histogram() -> None:
    sli = presets.build(_preset("django-db-latency", job="django", quantile=0.95))
    assert sli.value("5m") == (
        "histogram_quantile(0.95, sum by (le) "
        '(rate(django_db_query_duration_seconds_bucket{job="django"}[5m])))'
    )


@pytest.mark.parametrize(
    ("name", "params", "alerting", "field", "says"),
    [
        (
            "fastapi-latency",
            {"job": "a", "thresholdSeconds": 0.3},
            BURN_RATE,
            "thresholdSeconds",
            "0.01, 0.025",
        ),
        ("django-db-latency", {"job": "a", "thresholdSeconds": 0.2}, BURN_RATE, None, None),
        ("fastapi-latency", {"job": "a"}, BURN_RATE, "thresholdSeconds", "needs"),
        ("fastapi-latency", {"job": "a"}, THRESHOLD, "", "exactly one"),
        ("fastapi-latency", {"job": "a", "quantile": 0.95}, THRESHOLD, None, None),
        ("node-memory", {}, BURN_RATE, "name", "threshold"),
        ("node-memory", {}, THRESHOLD, None, None),
        ("target-down", {}, BURN_RATE, None, None),
        ("node-cpu", {"quantile": 0.5}, THRESHOLD, "quantile", "takes no"),
        ("fastapi-availability", {}, BURN_RATE, "job", "needs the Prometheus job"),
    ],
)
def test_preset_parameters_are_checked_for_the_mode(
    name: str,
    params: dict[str, Any],
    alerting: Alerting,
    field: str | None,
    says: str | None,
) -> None:
    problems = list(presets.problems(_preset(name, **params), alerting))
    if field is None:
        assert problems == []
        return
    [problem] = problems
    assert problem.field == f"spec.indicator.preset{'.' + field if field else ''}"
    assert says in problem.message


def test_bucket_boundaries_match_the_exporters_le_values_exactly() -> None:
    # 0.2 is a Django bucket, not a FastAPI one: the check is per histogram.
    fastapi = list(
        presets.problems(_preset("fastapi-latency", job="a", thresholdSeconds=0.2), BURN_RATE)
    )
    django = list(
        presets.problems(_preset("django-latency", job="a", thresholdSeconds=0.2), BURN_RATE)
    )
    assert len(fastapi) == 1
    assert django == []
