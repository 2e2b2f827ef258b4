"""`sloalert check --prometheus URL PATH...`: the series check for files, for CI and setups
without the operator. One line per dead selector, `file: ns/name: field: message`.

A grouped SLO (indicator.groupBy) whose series fall in more groups than its maxGroups is
reported the same way, naming the count (`spec.indicator.groupBy: the series have 80 groups...`).

Exit codes: 0 every selector reads series, 1 one reads nothing (or a resource is invalid),
2 Prometheus could not be reached or answered an error (nothing is known about the series).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Final, NamedTuple, TextIO

from sloalert import series_check

EXIT_DEAD: Final = 1
EXIT_PROMETHEUS: Final = 2
DEFAULT_TIMEOUT_SECONDS: Final = 30.0


class Checked(NamedTuple):
    """One SLOAlert to check: where it comes from, its selectors, and its groups if grouped."""

    origin: str
    resource: str
    probes: series_check.Probes
    grouping: series_check.Grouping | None = None


def run(
    loaded: Sequence[Checked],
    url: str,
    out: TextIO,
    err: TextIO,
    *,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    invalid: int = 0,
) -> int:
    """`loaded`: the SLOAlerts, in the order to report them;
    `invalid`: resources already reported as invalid (then nothing is ok, and the exit is 1)."""
    groups = {index: item.probes for index, item in enumerate(loaded)}
    groupings = {index: item.grouping for index, item in enumerate(loaded) if item.grouping}
    try:
        dead = asyncio.run(_check(groups, groupings, url, timeout))
    except series_check.PrometheusError as exc:
        print(f"sloalert check: {exc}", file=err)
        return EXIT_PROMETHEUS
    lines = [
        f"{loaded[index][0]}: {loaded[index][1]}: {found.probe.field}: {found.message}"
        for index, found_dead in dead.items()
        for found in found_dead
    ]
    for line in lines:
        print(line, file=out)
    if lines or invalid:
        return EXIT_DEAD
    print(f"ok: the {len(loaded)} SLOAlert(s) read series that exist in {url}", file=out)
    return 0


async def _check(
    groups: dict[int, series_check.Probes],
    groupings: dict[int, series_check.Grouping],
    url: str,
    seconds: float,
) -> dict[int, list[series_check.Dead]]:
    # Imported here, not at the top: `validate` and `render` share the CLI module and must run
    # without loading an HTTP client.
    from sloalert.adapters.prometheus_api import PrometheusAPI

    api = PrometheusAPI(url)
    try:
        async with asyncio.timeout(seconds):
            return await series_check.check_many(groups, api, groupings)
    except TimeoutError:
        raise series_check.PrometheusUnreachable(
            f"Prometheus at {url}: the check took longer than {seconds:g}s"
        ) from None
    finally:
        await api.close()
