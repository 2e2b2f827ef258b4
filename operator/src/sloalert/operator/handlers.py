"""kopf handlers: decorators only, each calling into the reconciler.

All are coroutines, though few await: kopf runs plain functions in a thread pool, one thread
hop per event, and the threads' own memory arenas cost more than the work they would do.

Run with `sloalert-operator`, or `kopf run -m sloalert.operator.handlers --standalone -A`.
SLOAlerts carry no finalizer: their PrometheusRules go with them through ownerReferences.
"""

from __future__ import annotations

from typing import Any

import kopf

from sloalert import conventions
from sloalert.operator import (
    MONITORING_GROUP,
    MONITORING_VERSION,
    PROMETHEUS_PLURAL,
    PROMETHEUS_RULE_PLURAL,
    bridge,
    runtime,
)
from sloalert.operator.selection import PrometheusView

SLOALERTS = (conventions.GROUP, conventions.VERSION, conventions.PLURAL)
PROMETHEUS_RULES = (MONITORING_GROUP, MONITORING_VERSION, PROMETHEUS_RULE_PLURAL)
PROMETHEUSES = (MONITORING_GROUP, MONITORING_VERSION, PROMETHEUS_PLURAL)


@kopf.on.startup()
async def start(memo: kopf.Memo, settings: kopf.OperatorSettings, **_: Any) -> None:
    runtime.start(memo, settings)


@kopf.on.cleanup()
async def stop(memo: kopf.Memo, **_: Any) -> None:
    await runtime.stop(memo)


@kopf.index(*SLOALERTS)
async def sloalert_index(body: kopf.Body, **_: Any) -> dict[bridge.Key, dict[str, Any]]:
    return bridge.sloalert_entry(body)


# kopf watches every kind in the same namespaces: given SLOALERT_NAMESPACES, a Prometheus
# elsewhere goes unseen, so Selected says it cannot tell rather than "none loads it".
@kopf.index(*PROMETHEUSES)
async def prometheus_index(body: kopf.Body, **_: Any) -> PrometheusView:
    return PrometheusView.from_object(body)


@kopf.on.resume(*SLOALERTS)
@kopf.on.create(*SLOALERTS)
@kopf.on.update(*SLOALERTS)
async def reconcile(
    body: kopf.Body, memo: kopf.Memo, prometheus_index: kopf.Index, retry: int, **_: Any
) -> None:
    result = await memo.parts.reconciler.reconcile(
        bridge.plain(body), lambda: bridge.prometheuses_in(prometheus_index)
    )
    bridge.settle(body, result, retry)


@kopf.on.event(*SLOALERTS, when=lambda type, **_: type == "DELETED")
async def forget_deleted(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    memo.parts.reconciler.forget(bridge.key_of(body))


@kopf.on.event(*PROMETHEUS_RULES, when=bridge.rule_drifted)
async def repair_rule(
    body: kopf.Body, memo: kopf.Memo, sloalert_index: kopf.Index, **_: Any
) -> None:
    key = bridge.key_of(body)
    await memo.parts.reconciler.repair(key, lambda: bridge.owner_in(sloalert_index, key))


@kopf.on.event(*PROMETHEUSES)
async def prometheus_changed(
    memo: kopf.Memo, sloalert_index: kopf.Index, prometheus_index: kopf.Index, **_: Any
) -> None:
    await memo.parts.reconciler.refresh_selection(
        lambda: bridge.owners_in(sloalert_index), lambda: bridge.prometheuses_in(prometheus_index)
    )
