"""kopf handlers: decorators only, each calling into the reconciler.

All are coroutines, though few await: kopf runs plain functions in a thread pool, one thread
hop per event, and the threads' own memory arenas cost more than the work they would do.

Run with `sloalert-operator`, or `kopf run -m sloalert.operator.handlers --standalone -A`.
SLOAlerts carry no finalizer: their PrometheusRules go with them through ownerReferences.
"""

from __future__ import annotations

from typing import Any

import kopf

from sloalert.conventions import (
    PROMETHEUS_RULES,
    PROMETHEUSES,
    SLOALERTS,
    THANOS_RULERS,
    ApiResource,
)
from sloalert.operator import bridge, runtime
from sloalert.operator.selection import PrometheusView
from sloalert.validation import plain


def watched(resource: ApiResource) -> tuple[str, str]:
    """kopf's selector for one resource type: its apiVersion and plural."""
    return resource.api_version, resource.plural


# kopf's own fallback logins are chosen once, when its default registry is first made (by the
# first handler decorator), from the environment at that moment: imported where KUBECONFIG is
# unset and there is no service account, the operator could never log in, even after KUBECONFIG
# is set (in-process test runs hit this). Choosing at login time instead: a kubeconfig if one is
# named or present, else the pod's service account.
@kopf.on.login()
def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
    return kopf.login_with_kubeconfig(**kwargs) or kopf.login_with_service_account(**kwargs)


@kopf.on.startup()
async def start(memo: kopf.Memo, settings: kopf.OperatorSettings, **_: Any) -> None:
    runtime.start(memo, settings)


@kopf.on.cleanup()
async def stop(memo: kopf.Memo, **_: Any) -> None:
    await runtime.stop(memo)


# kopf watches every kind in the same namespaces: given SLOALERT_NAMESPACES, a Prometheus
# elsewhere goes unseen, so Selected says it cannot tell rather than "none loads it".
@kopf.index(*watched(PROMETHEUSES))
async def prometheus_index(body: kopf.Body, **_: Any) -> PrometheusView:
    return PrometheusView.from_object(body)


# A ThanosRuler loads PrometheusRules by the same selectors: Selected names it like a Prometheus.
@kopf.index(*watched(THANOS_RULERS))
async def thanos_ruler_index(body: kopf.Body, **_: Any) -> PrometheusView:
    return PrometheusView.from_object(body)


@kopf.on.event(*watched(SLOALERTS))
async def track_sloalert(event: kopf.RawEvent, memo: kopf.Memo, **_: Any) -> None:
    # kopf runs event handlers before the change handlers of the same event: the reconcile
    # below finds its SLOAlert in the store as it is now.
    memo.parts.sloalerts.seen(event)
    if event["type"] == "DELETED":
        key = bridge.key_of(event["object"])
        memo.parts.reconciler.forget(key)
        bridge.stop_watching(memo.parts.series, key)


@kopf.on.resume(*watched(SLOALERTS))
@kopf.on.create(*watched(SLOALERTS))
@kopf.on.update(*watched(SLOALERTS))
async def reconcile(
    body: kopf.Body,
    memo: kopf.Memo,
    prometheus_index: kopf.Index,
    thanos_ruler_index: kopf.Index,
    retry: int,
    **_: Any,
) -> None:
    # The store's entry is this same event's SLOAlert (track_sloalert ran first), as plain
    # dictionaries already: no copy of kopf's view of it is needed.
    owner = memo.parts.sloalerts.get(bridge.key_of(body)) or plain(body)
    result = await memo.parts.reconciler.reconcile(
        owner, lambda: bridge.prometheuses_in(prometheus_index, thanos_ruler_index)
    )
    bridge.watch_series(memo.parts.series, body, memo.parts.sloalerts, result)
    bridge.settle(body, result, retry)


@kopf.on.event(*watched(PROMETHEUS_RULES), when=bridge.rule_drifted)
async def repair_rule(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    key = bridge.key_of(body)
    await memo.parts.reconciler.repair(key, lambda: memo.parts.sloalerts.get(key))


@kopf.on.event(*watched(PROMETHEUSES))
@kopf.on.event(*watched(THANOS_RULERS))
async def prometheus_changed(
    memo: kopf.Memo, prometheus_index: kopf.Index, thanos_ruler_index: kopf.Index, **_: Any
) -> None:
    await memo.parts.reconciler.refresh_selection(
        memo.parts.sloalerts.all,
        lambda: bridge.prometheuses_in(prometheus_index, thanos_ruler_index),
    )
