"""`sloalert check --prometheus URL PATH...`: the series check for files, for CI and setups
without the operator. One line per dead selector, `file: ns/name: field: message`.

Exit codes: 0 every selector reads series, 1 one reads nothing (or a resource is invalid),
2 Prometheus could not be reached or answered an error (nothing is known about the series).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Final, TextIO

from sloalert import series_check

EXIT_DEAD: Final = 1
EXIT_PROMETHEUS: Final = 2
DEFAULT_TIMEOUT_SECONDS: Final = 30.0


def run(
    loaded: Sequence[tuple[str, str, series_check.Probes]],
    url: str,
    out: TextIO,
    err: TextIO,
    *,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
) -> int:
    """`loaded`: (file, namespace/name, probes) per SLOAlert, in the order to report them."""
    groups = {index: probes for index, (_, _, probes) in enumerate(loaded)}
    try:
        dead = asyncio.run(_check(groups, url, timeout))
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
    if lines:
        return EXIT_DEAD
    print(f"ok: the {len(loaded)} SLOAlert(s) read series that exist in {url}", file=out)
    return 0


async def _check(
    groups: dict[int, series_check.Probes], url: str, seconds: float
) -> dict[int, list[series_check.Dead]]:
    # Imported here, not at the top: `validate` and `render` share the CLI module and must run
    # without loading an HTTP client.
    from sloalert.adapters.prometheus_api import PrometheusAPI

    api = PrometheusAPI(url)
    try:
        async with asyncio.timeout(seconds):
            return await series_check.check_many(groups, api)
    except TimeoutError:
        raise series_check.PrometheusUnreachable(
            f"Prometheus at {url}: the check took longer than {seconds:g}s"
        ) from None
    finally:
        await api.close()
