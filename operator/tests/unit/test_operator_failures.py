"""The reconciler when the API refuses a status write, a namespace read or a rule repair. No
server: a Kube stand-in in memory fails on demand, which a real API server cannot be made to do
reliably."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Mapping
from typing import Any, cast

import kopf
import pytest
from sloalert.generator import generate
from sloalert.operator import reconcile
from sloalert.operator.bridge import settle
from sloalert.operator.kube import Kube, KubeError
from sloalert.operator.metrics import OperatorMetrics
from sloalert.operator.reconcile import Outcome, Reconciler, desired_rule
from sloalert.operator.selection import PrometheusView
from sloalert.operator.settings import OperatorSettings
from testkit.sloalert_cluster import sloalert

RULE_LABELS = {"release": "kps"}
KPS = PrometheusView("monitoring", "k8s", {"matchLabels": RULE_LABELS}, {})


class RefusingKube:
    """Kube's interface in memory; `refused` names SLOAlerts whose status writes fail,
    `rules_refused` those whose PrometheusRule writes fail."""

    def __init__(self) -> None:
        self.statuses: dict[str, dict[str, Any]] = {}
        self.rules: dict[str, dict[str, Any]] = {}
        self.refused: set[str] = set()
        self.rules_refused: set[str] = set()
        self.namespaces_readable = True
        self.written = asyncio.Event()

    async def create_rule(self, rule: Mapping[str, Any]) -> None:
        namespace, name = rule["metadata"]["namespace"], rule["metadata"]["name"]
        if name in self.rules_refused:
            raise KubeError(f"create PrometheusRule {namespace}/{name}: 503 etcd away", 503)
        if name in self.rules:
            raise KubeError(f"create PrometheusRule {namespace}/{name}: 409 exists", 409)
        self.rules[name] = {
            **copy.deepcopy(dict(rule)),
            "metadata": {**copy.deepcopy(rule["metadata"]), "resourceVersion": "1"},
        }

    async def get_rule(self, namespace: str, name: str) -> dict[str, Any] | None:
        return copy.deepcopy(self.rules.get(name))

    async def update_rule(self, rule: Mapping[str, Any], resource_version: str) -> None:
        raise AssertionError("only rules that were deleted are written here")

    async def patch_sloalert_status(
        self, namespace: str, name: str, status: Mapping[str, Any]
    ) -> None:
        if name in self.refused:
            raise KubeError(f"write the status of SLOAlert {namespace}/{name}: 503 etcd away", 503)
        self.statuses[name] = copy.deepcopy(dict(status))
        self.written.set()

    async def namespace_labels(self, namespace: str) -> dict[str, str] | None:
        if not self.namespaces_readable:
            raise KubeError(f"read namespace {namespace}: 500 Internal Server Error", 500)
        return {}


def owner(name: str) -> dict[str, Any]:
    body = sloalert(name, "apps").to_dict()
    body["metadata"].update(uid=f"uid-{name}", generation=1)
    return body


@pytest.fixture
def kube() -> RefusingKube:
    return RefusingKube()


@pytest.fixture
def metrics() -> OperatorMetrics:
    return OperatorMetrics()


class Repairs:
    """What the reconciler announces as put back: (SLOAlert name, what) for each repair."""

    def __init__(self) -> None:
        self.announced: list[tuple[str, str]] = []
        self.heard = asyncio.Event()

    def __call__(self, owner: Mapping[str, Any], what: str) -> None:
        self.announced.append((owner["metadata"]["name"], what))
        self.heard.set()


@pytest.fixture
def repairs() -> Repairs:
    return Repairs()


@pytest.fixture
async def reconciler(kube: RefusingKube, metrics: OperatorMetrics, repairs: Repairs) -> Any:
    settings = OperatorSettings(namespaces=(), rule_labels=RULE_LABELS)
    made = Reconciler(
        cast(Kube, kube),
        settings,
        metrics,
        on_unselected=lambda *_: None,
        on_repaired=repairs,
    )
    yield made
    await made.close()


def failures(metrics: OperatorMetrics) -> float | None:
    return metrics.registry.get_sample_value("sloalert_reconciles_total", {"outcome": "failed"})


async def test_a_refused_status_write_is_a_counted_failure_retried_soon(
    kube: RefusingKube, metrics: OperatorMetrics, reconciler: Reconciler
) -> None:
    kube.refused.add("checkout")

    result = await reconciler.reconcile(owner("checkout"), lambda: [KPS])

    assert result.outcome is Outcome.FAILED
    assert result.ready.status == "Unknown"
    assert result.ready.message == (
        "write the status of SLOAlert apps/checkout: 503 etcd away (retrying)"
    )
    assert failures(metrics) == 1
    with pytest.raises(kopf.TemporaryError) as raised:
        settle(owner("checkout"), result, retry=0)
    assert raised.value.delay == 1


async def test_a_refused_namespace_read_is_a_counted_failure(
    kube: RefusingKube, metrics: OperatorMetrics, reconciler: Reconciler
) -> None:
    kube.namespaces_readable = False
    by_namespace_label = PrometheusView("monitoring", "k8s", {}, {"matchLabels": {"team": "a"}})

    result = await reconciler.reconcile(owner("checkout"), lambda: [by_namespace_label])

    assert result.outcome is Outcome.FAILED
    assert result.ready.message.startswith("read namespace apps: 500")
    assert failures(metrics) == 1
    assert kube.statuses == {}


def selected_message(kube: RefusingKube, name: str) -> str | None:
    conditions = kube.statuses.get(name, {}).get("conditions", [])
    return next((c["message"] for c in conditions if c["type"] == "Selected"), None)


async def test_a_refresh_refused_for_one_sloalert_still_updates_the_others_and_the_next_event(
    kube: RefusingKube, reconciler: Reconciler
) -> None:
    owners = [owner("a"), owner("b")]
    kube.refused.add("a")

    await reconciler.refresh_selection(lambda: owners, lambda: [KPS])
    assert "a" not in kube.statuses
    assert selected_message(kube, "b") == "loaded by prometheus monitoring/k8s"

    kube.refused.clear()
    # The same Prometheus set again: not news to skip, since "a" never got it.
    await reconciler.refresh_selection(lambda: owners, lambda: [KPS])
    assert selected_message(kube, "a") == "loaded by prometheus monitoring/k8s"


async def test_a_refused_refresh_is_retried_without_another_event(
    kube: RefusingKube, reconciler: Reconciler
) -> None:
    owners = [owner("a")]
    kube.refused.add("a")
    await reconciler.refresh_selection(lambda: owners, lambda: [KPS])
    kube.refused.clear()

    await asyncio.wait_for(kube.written.wait(), timeout=5)  # the first retry comes after 1 s
    assert selected_message(kube, "a") == "loaded by prometheus monitoring/k8s"


async def test_a_refused_repair_is_retried_without_another_event(
    kube: RefusingKube, metrics: OperatorMetrics, reconciler: Reconciler, repairs: Repairs
) -> None:
    slo = owner("a")  # its rule was deleted, and may not be written again for now
    kube.rules_refused.add("a")
    await reconciler.repair(("apps", "a"), lambda: slo)
    assert kube.rules == {}
    assert repairs.announced == []
    kube.rules_refused.clear()

    await asyncio.wait_for(repairs.heard.wait(), timeout=5)  # the first retry comes after 1 s
    assert repairs.announced == [("a", "it was deleted")]
    assert kube.rules["a"]["spec"] == desired_rule(slo, RULE_LABELS).rule["spec"]
    assert metrics.registry.get_sample_value("sloalert_drift_repairs_total") == 1


async def test_a_pending_repair_rereads_the_rule_and_leaves_one_put_back_since(
    kube: RefusingKube, reconciler: Reconciler, repairs: Repairs
) -> None:
    slo = owner("a")
    kube.rules_refused.add("a")
    await reconciler.repair(("apps", "a"), lambda: slo)
    kube.rules_refused.clear()
    await reconciler.repair(("apps", "a"), lambda: slo)  # the next drift event: put back now
    assert repairs.announced == [("a", "it was deleted")]

    await asyncio.sleep(1.5)  # past the first retry, which finds the rule as asked
    assert repairs.announced == [("a", "it was deleted")]


async def test_drift_events_build_the_desired_rule_once_per_generation(
    kube: RefusingKube,
    reconciler: Reconciler,
    repairs: Repairs,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    slo = owner("a")
    builds = []
    monkeypatch.setattr(
        reconcile, "generate", lambda loaded: builds.append(loaded) or generate(loaded)
    )
    # As kopf runs it: the event filter asks whether the (deleted) rule drifted, then the
    # handler repairs it (building the whole rule, to write it).
    assert reconciler.drift_of(slo, None) == "it was deleted"
    await reconciler.repair(("apps", "a"), lambda: slo)
    assert repairs.announced == [("a", "it was deleted")]
    assert len(builds) == 2
    # The operator's own write is the next event: it matches, and costs no build.
    assert reconciler.drift_of(slo, kube.rules["a"]) is None
    slo["metadata"]["resourceVersion"] = "8"  # a status write: the same generation
    assert reconciler.drift_of(slo, kube.rules["a"]) is None
    assert len(builds) == 2
    # A new generation of the SLOAlert is built afresh.
    slo["metadata"]["generation"] = 2
    assert reconciler.drift_of(slo, kube.rules["a"]) is None
    assert len(builds) == 3


async def test_a_listed_rule_is_left_to_its_sloalerts_first_reconcile(
    kube: RefusingKube, reconciler: Reconciler
) -> None:
    slo = owner("a")
    assert reconciler.drift_of(slo, None, listed=True) is None
    await reconciler.reconcile(slo, lambda: [KPS])
    assert reconciler.drift_of(slo, None, listed=True) == "it was deleted"
