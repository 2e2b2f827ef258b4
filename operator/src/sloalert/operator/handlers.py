"""kopf handlers: decorators only, each calling into the reconciler.

All are coroutines, though few await: kopf runs plain functions in a thread pool, one thread
hop per event, and the threads' own memory arenas cost more than the work they would do.

Run with `sloalert-operator`, or `kopf run -m sloalert.operator.handlers --standalone -A`.
SLOAlerts carry no finalizer: their PrometheusRules go with them through ownerReferences.
"""

from __future__ import annotations

from typing import Any

import kopf

from sloalert.conventions import PROMETHEUS_RULES, PROMETHEUSES, SLOALERTS, ApiResource
from sloalert.operator import bridge, runtime
from sloalert.operator.selection import PrometheusView
from sloalert.validation import plain


def watched(resource: ApiResource) -> tuple[str, str]:
    """kopf's selector for one resource type: its apiVersion and plural."""
    return resource.api_version, resource.plural


@kopf.on.startup()
async def start(memo: kopf.Memo, settings: kopf.OperatorSettings, **_: Any) -> None:
    runtime.start(memo, settings)


@kopf.on.cleanup()
async def stop(memo: kopf.Memo, **_: Any) -> None:
    await runtime.stop(memo)


@kopf.index(*watched(SLOALERTS))
async def sloalert_index(body: kopf.Body, **_: Any) -> dict[bridge.Key, dict[str, Any]]:
    return bridge.sloalert_entry(body)


# kopf watches every kind in the same namespaces: given SLOALERT_NAMESPACES, a Prometheus
# elsewhere goes unseen, so Selected says it cannot tell rather than "none loads it".
@kopf.index(*watched(PROMETHEUSES))
async def prometheus_index(body: kopf.Body, **_: Any) -> PrometheusView:
    return PrometheusView.from_object(body)


@kopf.on.resume(*watched(SLOALERTS))
@kopf.on.create(*watched(SLOALERTS))
@kopf.on.update(*watched(SLOALERTS))
async def reconcile(
    body: kopf.Body,
    memo: kopf.Memo,
    prometheus_index: kopf.Index,
    sloalert_index: kopf.Index,
    retry: int,
    **_: Any,
) -> None:
    result = await memo.parts.reconciler.reconcile(
        plain(body), lambda: bridge.prometheuses_in(prometheus_index)
    )
    bridge.watch_series(memo.parts.series, body, sloalert_index, result)
    bridge.settle(body, result, retry)


@kopf.on.event(*watched(SLOALERTS), when=lambda type, **_: type == "DELETED")
async def forget_deleted(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    memo.parts.reconciler.forget(bridge.key_of(body))
    bridge.stop_watching(memo.parts.series, bridge.key_of(body))


@kopf.on.event(*watched(PROMETHEUS_RULES), when=bridge.rule_drifted)
async def repair_rule(
    body: kopf.Body, memo: kopf.Memo, sloalert_index: kopf.Index, **_: Any
) -> None:
    key = bridge.key_of(body)
    await memo.parts.reconciler.repair(key, lambda: bridge.owner_in(sloalert_index, key))


@kopf.on.event(*watched(PROMETHEUSES))
async def prometheus_changed(
    memo: kopf.Memo, sloalert_index: kopf.Index, prometheus_index: kopf.Index, **_: Any
) -> None:
    await memo.parts.reconciler.refresh_selection(
        lambda: bridge.owners_in(sloalert_index), lambda: bridge.prometheuses_in(prometheus_index)
    )
