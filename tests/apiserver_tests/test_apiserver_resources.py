"""Custom resources on the test API server behave as on a cluster: CRUD, apply, schema, status."""

from __future__ import annotations

from typing import Any

import pytest
from lightkube import Client
from lightkube.core.exceptions import ApiError
from lightkube.types import PatchType

pytestmark = pytest.mark.apiserver


def recording_rule(rule_kind: Any, namespace: str, group: str, expr: str = "sum(up)") -> Any:
    return rule_kind(
        metadata={"name": "rules", "namespace": namespace},
        spec={
            "groups": [{"name": group, "interval": "1m", "rules": [{"record": "r", "expr": expr}]}]
        },
    )


def group_names(rule: Any) -> list[str]:
    return [group["name"] for group in rule.spec["groups"]]


def test_create_get_and_list_a_prometheus_rule(
    client: Client, namespace: str, rule_kind: Any
) -> None:
    created = client.create(recording_rule(rule_kind, namespace, "availability"))
    assert created.metadata.uid

    fetched = client.get(rule_kind, "rules", namespace=namespace)
    assert fetched.spec["groups"][0]["rules"] == [{"record": "r", "expr": "sum(up)"}]
    assert [r.metadata.name for r in client.list(rule_kind, namespace=namespace)] == ["rules"]
    assert list(client.list(rule_kind, namespace=f"{namespace}-other")) == []


def test_merge_patch_changes_only_what_it_names(
    client: Client, namespace: str, rule_kind: Any
) -> None:
    client.create(recording_rule(rule_kind, namespace, "availability"))
    patched = client.patch(
        rule_kind,
        "rules",
        {"metadata": {"labels": {"release": "kube-prometheus-stack"}}},
        namespace=namespace,
        patch_type=PatchType.MERGE,
    )
    assert patched.metadata.labels == {"release": "kube-prometheus-stack"}
    assert group_names(patched) == ["availability"]


def test_server_side_apply_merges_rule_groups_by_name(
    client: Client, namespace: str, rule_kind: Any
) -> None:
    client.create(recording_rule(rule_kind, namespace, "availability"))
    # The CRD keys spec.groups by name, so another manager's group joins instead of replacing.
    client.apply(recording_rule(rule_kind, namespace, "latency"), field_manager="second")
    merged = client.apply(
        recording_rule(rule_kind, namespace, "latency", expr="sum(rate(x[5m]))"),
        field_manager="second",
    )
    assert group_names(merged) == ["availability", "latency"]
    assert merged.spec["groups"][1]["rules"][0]["expr"] == "sum(rate(x[5m]))"
    managers = {entry.manager for entry in merged.metadata.managedFields}
    assert {"apiserver-tests", "second"} <= managers


def test_delete_removes_the_resource(client: Client, namespace: str, rule_kind: Any) -> None:
    client.create(recording_rule(rule_kind, namespace, "availability"))
    client.delete(rule_kind, "rules", namespace=namespace)
    with pytest.raises(ApiError) as missing:
        client.get(rule_kind, "rules", namespace=namespace)
    assert missing.value.status.code == 404


def test_schema_refuses_a_bad_duration_with_the_servers_message(
    client: Client, namespace: str, rule_kind: Any
) -> None:
    rule = recording_rule(rule_kind, namespace, "availability")
    rule.spec["groups"][0]["interval"] = "5 minutes"
    with pytest.raises(ApiError) as refused:
        client.create(rule)
    assert refused.value.status.code == 422
    assert "spec.groups[0].interval" in refused.value.status.message
    assert "should match" in refused.value.status.message


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({}, "spec.size: Required value"),
        ({"size": 0}, "spec.size: Invalid value: 0: spec.size in body should be greater than or"),
        ({"size": 1, "color": "purple"}, 'spec.color: Unsupported value: "purple"'),
        ({"size": 11}, "size must not exceed maxSize"),  # the CEL rule, against the default
    ],
    ids=["required", "minimum", "enum", "cel-rule"],
)
def test_widget_schema_refuses_invalid_specs(
    client: Client, namespace: str, widget_kind: Any, spec: dict[str, Any], message: str
) -> None:
    with pytest.raises(ApiError) as refused:
        client.create(widget_kind(metadata={"name": "w", "namespace": namespace}, spec=spec))
    assert refused.value.status.code == 422
    assert message in refused.value.status.message


def test_defaults_are_filled_in_and_unknown_fields_pruned(
    client: Client, namespace: str, widget_kind: Any
) -> None:
    created = client.create(
        widget_kind(metadata={"name": "w", "namespace": namespace}, spec={"size": 3, "shape": "x"})
    )
    assert created.spec == {"size": 3, "maxSize": 10, "color": "green"}


def test_status_is_a_separate_subresource(client: Client, namespace: str, widget_kind: Any) -> None:
    created = client.create(
        widget_kind(metadata={"name": "w", "namespace": namespace}, spec={"size": 2})
    )
    through_main = client.patch(
        widget_kind,
        "w",
        {"spec": {"size": 3}, "status": {"phase": "ignored"}},
        namespace=namespace,
        patch_type=PatchType.MERGE,
    )
    assert through_main.spec["size"] == 3
    assert not (through_main.status or {}).get("phase")
    assert through_main.metadata.generation == created.metadata.generation + 1

    through_status = client.patch(
        widget_kind.Status,
        "w",
        {"spec": {"size": 9}, "status": {"phase": "Ready"}},
        namespace=namespace,
        patch_type=PatchType.MERGE,
    )
    assert through_status.status["phase"] == "Ready"
    assert through_status.spec["size"] == 3
    assert through_status.metadata.generation == through_main.metadata.generation


def test_a_watch_delivers_the_changes_after_a_resource_version(
    client: Client, namespace: str, widget_kind: Any
) -> None:
    created = client.create(
        widget_kind(metadata={"name": "w", "namespace": namespace}, spec={"size": 2})
    )
    client.patch(
        widget_kind, "w", {"spec": {"size": 5}}, namespace=namespace, patch_type=PatchType.MERGE
    )
    client.delete(widget_kind, "w", namespace=namespace)

    seen = []
    # The client's read timeout (10 s) bounds the wait if an event never comes.
    for event, obj in client.watch(
        widget_kind, namespace=namespace, resource_version=created.metadata.resourceVersion
    ):
        seen.append((event, obj.spec["size"]))
        if event == "DELETED":
            break
    assert seen == [("MODIFIED", 5), ("DELETED", 5)]


def test_a_finalizer_holds_deletion_until_it_is_removed(
    client: Client, namespace: str, widget_kind: Any
) -> None:
    client.create(
        widget_kind(
            metadata={"name": "w", "namespace": namespace, "finalizers": ["example.com/hold"]},
            spec={"size": 2},
        )
    )
    client.delete(widget_kind, "w", namespace=namespace)
    held = client.get(widget_kind, "w", namespace=namespace)
    assert held.metadata.deletionTimestamp is not None

    client.patch(
        widget_kind,
        "w",
        {"metadata": {"finalizers": None}},
        namespace=namespace,
        patch_type=PatchType.MERGE,
    )
    with pytest.raises(ApiError) as gone:
        client.get(widget_kind, "w", namespace=namespace)
    assert gone.value.status.code == 404
